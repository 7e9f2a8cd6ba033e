using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CgroupLb.Agent.Cli;

/// <summary>
/// Writes a JSON document as block-style YAML, so `-o yaml` shows exactly the fields of `-o json` (one shape, two
/// spellings). Strings are double-quoted with JSON escapes, which YAML reads the same way: no value can turn into a
/// number, a boolean or a null by accident ("no", "1e3", "null" stay strings).
/// </summary>
internal static class YamlText
{
    public static string FromJson(string json)
    {
        var builder = new StringBuilder();
        var root = JsonNode.Parse(json);
        if (root is JsonObject or JsonArray && HasItems(root))
            WriteBlock(builder, root, 0);
        else
            builder.Append(Scalar(root)).Append('\n');
        return builder.ToString();
    }

    private static bool HasItems(JsonNode? node) => node switch
    {
        JsonObject o => o.Count > 0,
        JsonArray a => a.Count > 0,
        _ => false,
    };

    private static void WriteBlock(StringBuilder builder, JsonNode? node, int indent)
    {
        string pad = new(' ', indent);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    builder.Append(pad).Append(Key(key)).Append(':');
                    WriteValue(builder, value, indent + 2);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    builder.Append(pad).Append('-');
                    if (item is JsonObject itemObject && itemObject.Count > 0)
                    {
                        // "- first: 1\n  second: 2": the item's first key shares the dash's line.
                        var nested = new StringBuilder();
                        WriteBlock(nested, itemObject, indent + 2);
                        builder.Append(' ').Append(nested.ToString()[(indent + 2)..]);
                    }
                    else
                        WriteValue(builder, item, indent + 2);
                }
                break;
        }
    }

    private static void WriteValue(StringBuilder builder, JsonNode? value, int indent)
    {
        if (HasItems(value))
        {
            builder.Append('\n');
            WriteBlock(builder, value, indent);
        }
        else
            builder.Append(' ').Append(Scalar(value)).Append('\n');
    }

    private static string Key(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/') && !char.IsAsciiDigit(key[0])
            ? key
            : JsonSerializer.Serialize(key);

    private static string Scalar(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray => "[]",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonSerializer.Serialize(v.GetValue<string>()),
        _ => node.ToJsonString(),
    };
}
