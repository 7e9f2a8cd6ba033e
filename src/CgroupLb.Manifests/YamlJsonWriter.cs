using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace CgroupLb.Manifests;

/// <summary>
/// Writes a node of a <see cref="YamlEventTree"/> as JSON, the way kubectl turns YAML into JSON before decoding it
/// (sigs.k8s.io/yaml), so the typed object is then decoded by System.Text.Json with KubernetesClient's own contracts.
/// Plain scalars that are JSON numbers, <c>true</c>/<c>false</c> and the null forms keep their type; every other
/// scalar is a string (decoding accepts a quoted number where a number is expected, and a number where a string is).
/// Aliases are expanded (<see cref="YamlEventTree"/> has bounded what that costs), merge keys (<c>&lt;&lt;</c>) are
/// applied with the mapping's own keys winning, and a key given twice is refused as kubectl's strict decoding does.
/// </summary>
internal static partial class YamlJsonWriter
{
    private const string MergeKey = "<<";

    /// <exception cref="YamlLimitException">A duplicate or non-scalar key, a bad merge, or expansion too deep.</exception>
    public static void Write(YamlEventTree tree, int node, Utf8JsonWriter writer) => WriteNode(tree, node, writer, 0);

    private static void WriteNode(YamlEventTree tree, int node, Utf8JsonWriter writer, int depth)
    {
        if (depth > YamlLimits.MaxDepth)
        {
            throw new YamlLimitException(tree[node].Start, $"nesting deeper than {YamlLimits.MaxDepth} levels once aliases are expanded");
        }

        node = tree.Resolve(node);
        switch (tree[node])
        {
            case Scalar scalar:
                WriteScalar(scalar, writer);
                break;
            case SequenceStart:
                writer.WriteStartArray();
                foreach (var item in tree.Items(node))
                {
                    WriteNode(tree, item, writer, depth + 1);
                }

                writer.WriteEndArray();
                break;
            case MappingStart:
                writer.WriteStartObject();
                WriteMapping(tree, node, writer, depth);
                writer.WriteEndObject();
                break;
            default:
                throw new YamlLimitException(tree[node].Start, $"unexpected {tree[node].GetType().Name}");
        }
    }

    private static void WriteMapping(YamlEventTree tree, int mapping, Utf8JsonWriter writer, int depth)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        List<int>? merges = null;
        foreach (var (key, value) in tree.Pairs(mapping))
        {
            var name = KeyText(tree, key);
            if (name == MergeKey && tree[tree.Resolve(key)] is Scalar { Style: ScalarStyle.Plain })
            {
                (merges ??= []).Add(value);
                continue;
            }

            if (!written.Add(name))
            {
                throw new YamlLimitException(tree[key].Start, $"duplicate field \"{name}\"");
            }

            writer.WritePropertyName(name);
            WriteNode(tree, value, writer, depth + 1);
        }

        // YAML merge keys: fields of the merged mappings that the mapping does not set itself, earlier merges first.
        foreach (var merge in merges ?? [])
        {
            var sources = tree.IsSequence(merge) ? [.. tree.Items(merge)] : new List<int> { merge };
            foreach (var source in sources)
            {
                if (!tree.IsMapping(source))
                {
                    throw new YamlLimitException(tree[source].Start, "a merge key (<<) must name a mapping or a list of mappings");
                }

                foreach (var (key, value) in tree.Pairs(source))
                {
                    var name = KeyText(tree, key);
                    if (written.Add(name))
                    {
                        writer.WritePropertyName(name);
                        WriteNode(tree, value, writer, depth + 1);
                    }
                }
            }
        }
    }

    private static string KeyText(YamlEventTree tree, int key) =>
        tree.ScalarValue(key) ?? throw new YamlLimitException(tree[key].Start, "a field name must be a string, not a list or mapping");

    private static void WriteScalar(Scalar scalar, Utf8JsonWriter writer)
    {
        var value = scalar.Value;
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is null && scalar.Style == ScalarStyle.Plain)
        {
            switch (value)
            {
                case "" or "~" or "null" or "Null" or "NULL":
                    writer.WriteNullValue();
                    return;
                case "true":
                    writer.WriteBooleanValue(true);
                    return;
                case "false":
                    writer.WriteBooleanValue(false);
                    return;
            }

            if (JsonNumber().IsMatch(value))
            {
                writer.WriteRawValue(value, skipInputValidation: true);
                return;
            }
        }
        else if (tag is "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" && JsonNumber().IsMatch(value))
        {
            writer.WriteRawValue(value, skipInputValidation: true);
            return;
        }
        else if (tag is "tag:yaml.org,2002:null")
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStringValue(value);
    }

    // Exactly JSON's number grammar: what is not (leading zeros, '+', ".5", hex) stays a string, so a string field
    // keeps its text as written, and a number field still reads it as decimal.
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex JsonNumber();
}
