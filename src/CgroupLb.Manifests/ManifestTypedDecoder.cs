using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.Core;

namespace CgroupLb.Manifests;

/// <summary>
/// Decodes a node of a parsed document into a typed Kubernetes object: YAML events to JSON (<see cref="YamlJsonWriter"/>),
/// then System.Text.Json with KubernetesClient's contracts and converters. Strict like kubectl's default
/// <c>--validate=strict</c>: a misspelt field is an error, not a silently missing setting. Errors are located in the
/// document's YAML text.
/// </summary>
internal static partial class ManifestTypedDecoder
{
    private static readonly JsonSerializerOptions Options = CreateOptions();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    /// <summary>
    /// <see cref="ManifestDirectDecoder"/> where it takes the node (nearly every manifest the subset parser read), else the
    /// JSON path, which also words every error.
    /// </summary>
    /// <param name="direct">False to always take the JSON path (tests and the bench compare the two).</param>
    /// <exception cref="YamlLimitException">The node cannot be decoded; the message says why and where.</exception>
    public static IKubernetesObject<V1ObjectMeta> Decode(ManifestKind kind, YamlEventTree tree, int node, bool direct = true) =>
        (direct ? ManifestDirectDecoder.TryDecode(kind, tree, node) : null) ?? DecodeViaJson(kind, tree, node);

    /// <inheritdoc cref="Decode"/>
    public static IKubernetesObject<V1ObjectMeta> DecodeViaJson(ManifestKind kind, YamlEventTree tree, int node) => kind switch
    {
        ManifestKind.Service => Decode<V1Service>(tree, node),
        ManifestKind.EndpointSlice => Decode<V1EndpointSlice>(tree, node),
        ManifestKind.Node => Decode<V1Node>(tree, node),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static T Decode<T>(YamlEventTree tree, int node)
        where T : class
    {
        var output = buffer ??= new ArrayBufferWriter<byte>(4096);
        output.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true }))
        {
            YamlJsonWriter.Write(tree, node, writer);
        }

        try
        {
            var info = (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
            return JsonSerializer.Deserialize(output.WrittenSpan, info)
                ?? throw new YamlLimitException(tree[node].Start, "is empty");
        }
        catch (JsonException e)
        {
            throw new YamlLimitException(Locate(tree, node, e.Path), Describe(e));
        }
        catch (NotSupportedException e) when (UnsupportedMember().Match(e.Message) is { Success: true } unsupported)
        {
            // KubernetesClient's IntOrString converter throws this for a boolean ("targetPort: true").
            var path = unsupported.Groups["path"].Value;
            var type = unsupported.Groups["type"].Value;
            throw new YamlLimitException(Locate(tree, node, path), $"{(path.Length > 2 ? path[2..] : "the value")} cannot be read as {type[(type.LastIndexOf('.') + 1)..]}");
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw new YamlLimitException(tree[node].Start, e.Message.TrimEnd('.'));
        }
    }

    /// <summary>Where the JSON path of a decoding error points in the YAML: the key of the innermost field found.</summary>
    private static Mark Locate(YamlEventTree tree, int node, string? path)
    {
        var at = tree[node].Start;
        if (string.IsNullOrEmpty(path))
        {
            return at;
        }

        var current = node;
        foreach (Match segment in PathSegment().Matches(path))
        {
            if (segment.Groups["index"].Success)
            {
                var index = int.Parse(segment.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
                var item = tree.IsSequence(current) ? tree.Items(current).Skip(index).FirstOrDefault(-1) : -1;
                if (item < 0)
                {
                    break;
                }

                current = item;
                at = tree[tree.Resolve(item)].Start;
                continue;
            }

            var name = segment.Groups["name"].Success ? segment.Groups["name"].Value : segment.Groups["quoted"].Value;
            if (!tree.IsMapping(current) || tree.Field(current, name) is not { } field)
            {
                break;
            }

            current = field.Value;
            at = tree[field.Key].Start;
        }

        return at;
    }

    private static string Describe(JsonException e)
    {
        var message = e.Message;
        var unknown = UnknownField().Match(message);
        if (unknown.Success)
        {
            var type = unknown.Groups["type"].Value;
            return $"unknown field \"{unknown.Groups["name"].Value}\" in {type[(type.LastIndexOf('.') + 1)..]}";
        }

        var convert = CannotConvert().Match(message);
        if (convert.Success)
        {
            var type = convert.Groups["type"].Value;
            var field = e.Path is { Length: > 2 } path ? path[2..] : "the value";
            return $"{field} cannot be read as {type[(type.LastIndexOf('.') + 1)..]}";
        }

        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd('.');
    }

    private static JsonSerializerOptions CreateOptions()
    {
        JsonSerializerOptions? shared = null;
        // Hands over KubernetesClient's options without changing them; the copy below is ours alone.
        KubernetesJson.AddJsonOptions(options => shared = options);
        var options = new JsonSerializerOptions(shared!)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
        };
        options.Converters.Insert(0, new ScalarTextConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Reads a number or boolean where a string is expected as its text, as YAML readers of manifests do.</summary>
    private sealed class ScalarTextConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            _ => throw new JsonException($"The JSON value could not be converted to System.String."),
        };

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetString()!;

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WritePropertyName(value);
    }

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>[^']*)'\]|\[(?<index>[0-9]+)\]")]
    private static partial Regex PathSegment();

    [GeneratedRegex(@"The JSON property '(?<name>[^']*)' could not be mapped to any \.NET member contained in type '(?<type>[^']*)'")]
    private static partial Regex UnknownField();

    [GeneratedRegex(@"located on type '(?<type>[^']*)'\. Path: (?<path>\S+)")]
    private static partial Regex UnsupportedMember();

    [GeneratedRegex(@"could not be converted to (?<type>[^ .]+(\.[^ .]+)*)\.")]
    private static partial Regex CannotConvert();
}
