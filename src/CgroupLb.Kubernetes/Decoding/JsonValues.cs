using System.Text.Json;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// Reads one JSON value with the rules System.Text.Json applies to KubernetesClient's models (strict types: a number is
/// not a string, a string is not a number, null is null), except that a value of the wrong type is recorded in the
/// object's <see cref="ObjectDecodeFailure"/> and skipped instead of failing the whole list. Every method starts with
/// the reader on the value's first token and leaves it on the value's last.
/// </summary>
internal static class JsonValues
{
    public static string? String(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Null: return null;
            default: return Wrong(ref reader, failure, path, "a string");
        }
    }

    /// <summary>As <see cref="String"/>, for values that repeat across objects (see <see cref="RepeatedStrings"/>).</summary>
    public static string? SharedString(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return RepeatedStrings.Get(ref reader);
            case JsonTokenType.Null: return null;
            default: return Wrong(ref reader, failure, path, "a string");
        }
    }

    public static int? Int(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number when reader.TryGetInt32(out var value): return value;
            case JsonTokenType.Number:
                failure.Fail(path, $"{System.Text.Encoding.UTF8.GetString(reader.ValueSpan)} is not a 32-bit integer");
                return null;
            case JsonTokenType.Null: return null;
            default:
                Wrong(ref reader, failure, path, "an integer");
                return null;
        }
    }

    public static bool? Bool(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True: return true;
            case JsonTokenType.False: return false;
            case JsonTokenType.Null: return null;
            default:
                Wrong(ref reader, failure, path, "true or false");
                return null;
        }
    }

    /// <summary>KubernetesClient's IntOrString: a string as written, an integer as its decimal text.</summary>
    public static IntOrString? IntOrString(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Number when reader.TryGetInt64(out var value): return value;
            case JsonTokenType.Number:
                failure.Fail(path, $"{System.Text.Encoding.UTF8.GetString(reader.ValueSpan)} is not an integer or a name");
                return null;
            case JsonTokenType.Null: return null;
            default:
                Wrong(ref reader, failure, path, "an integer or a name");
                return null;
        }
    }

    /// <summary>A list of strings; a null entry stays null, as System.Text.Json keeps it (the validator then names it).</summary>
    public static List<string>? Strings(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        if (!IsArray(ref reader, failure, path)) return null;
        // Most of these lists (an endpoint's addresses, a Service's clusterIPs) hold one or two entries.
        var list = new List<string>(1);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(String(ref reader, failure, path.At(list.Count))!);
        }

        return list;
    }

    /// <summary>A string-to-string map; <paramref name="keep"/> (when given) picks the keys worth keeping, the rest are skipped unread.</summary>
    public static Dictionary<string, string>? StringMap(
        ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path, Func<string, bool>? keep = null)
    {
        if (!IsObject(ref reader, failure, path)) return null;
        Dictionary<string, string>? map = keep is null ? new Dictionary<string, string>(StringComparer.Ordinal) : null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = RepeatedStrings.Get(ref reader);
            reader.Read();
            if (keep is not null && !keep(key))
            {
                reader.Skip();
                continue;
            }

            map ??= new Dictionary<string, string>(StringComparer.Ordinal);
            map[key] = SharedString(ref reader, failure, path with { Tail = key })!;
        }

        return map;
    }

    /// <summary>True on an object's start; false on null; a failure (and the value skipped) on anything else.</summary>
    public static bool IsObject(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        if (reader.TokenType == JsonTokenType.StartObject) return true;
        if (reader.TokenType != JsonTokenType.Null) Wrong(ref reader, failure, path, "an object");
        return false;
    }

    /// <summary>True on an array's start; false on null; a failure (and the value skipped) on anything else.</summary>
    public static bool IsArray(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        if (reader.TokenType == JsonTokenType.StartArray) return true;
        if (reader.TokenType != JsonTokenType.Null) Wrong(ref reader, failure, path, "a list");
        return false;
    }

    /// <summary>
    /// Reads a list of objects with <paramref name="item"/>. A null entry stays null, as System.Text.Json keeps it: the
    /// validator refuses a Service or slice with a null port or endpoint by name, as it did before.
    /// </summary>
    public static List<TItem>? Objects<TItem>(
        ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path, ItemReader<TItem> item)
        where TItem : class
    {
        if (!IsArray(ref reader, failure, path)) return null;
        var list = new List<TItem>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var at = path.At(list.Count);
            list.Add(IsObject(ref reader, failure, at) ? item(ref reader, failure, at) : null!);
        }

        return list;
    }

    private static string? Wrong(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path, string expected)
    {
        failure.Fail(path, $"expected {expected}, found {Describe(reader.TokenType)}");
        reader.Skip();
        return null;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}

/// <summary>Reads one object of a list; the reader starts on its '{' and must end on its '}'.</summary>
internal delegate TItem ItemReader<out TItem>(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path);
