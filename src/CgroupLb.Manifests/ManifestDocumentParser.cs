using System.Text.RegularExpressions;
using CgroupLb.Model.Kubernetes;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CgroupLb.Manifests;

/// <summary>
/// Turns one document's text into <see cref="ManifestDocument"/>s (several for a <c>v1 List</c>). It reads the untyped
/// YAML tree first, so that even a document that later fails typed decoding or validation is still known by its
/// identity, which is what lets the source keep that object's last good state.
/// </summary>
internal static partial class ManifestDocumentParser
{
    public static IReadOnlyList<ManifestDocument> Parse(string file, YamlDocumentText document)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(document.Text));
        }
        catch (YamlException e)
        {
            var (line, column, message) = Describe(e);
            var fileLine = document.FirstLine + line - 1;
            return [Failed(file, document, null, document.FirstLine, null,
                $"invalid YAML at line {fileLine} column {column}: {message}")];
        }

        if (stream.Documents.Count == 0)
        {
            return [];
        }

        if (stream.Documents.Count > 1)
        {
            return [Failed(file, document, null, document.FirstLine, null,
                $"holds {stream.Documents.Count} YAML documents; separate documents with a '---' line")];
        }

        var results = new List<ManifestDocument>();
        ParseObject(file, document, null, stream.Documents[0].RootNode, results);
        return results;
    }

    private static void ParseObject(
        string file, YamlDocumentText document, int? listItem, YamlNode node, List<ManifestDocument> results)
    {
        var line = listItem is null ? document.FirstLine : document.FirstLine + (int)node.Start.Line - 1;
        if (node is not YamlMappingNode fields)
        {
            results.Add(Failed(file, document, listItem, line, null,
                $"is not an object with fields (found a {NodeKindName(node)})"));
            return;
        }

        var apiVersion = ScalarField(fields, "apiVersion");
        var kindName = ScalarField(fields, "kind");
        if (string.IsNullOrEmpty(apiVersion) || string.IsNullOrEmpty(kindName))
        {
            var missing = (string.IsNullOrEmpty(apiVersion), string.IsNullOrEmpty(kindName)) switch
            {
                (true, true) => "apiVersion and kind are",
                (true, false) => "apiVersion is",
                _ => "kind is",
            };
            results.Add(Failed(file, document, listItem, line, null, $"{missing} missing"));
            return;
        }

        if (apiVersion == "v1" && kindName == "List")
        {
            ParseList(file, document, listItem, line, fields, results);
            return;
        }

        var metadata = Field(fields, "metadata") as YamlMappingNode;
        var name = metadata is null ? null : ScalarField(metadata, "name");
        var kind = ManifestKindMap.Classify(apiVersion, kindName, out var versionError);
        if (kind is null)
        {
            results.Add(new ManifestDocument(file, document.Index, listItem, line)
            {
                Ignored = new ManifestIgnoredDocument(file, document.Index, listItem, apiVersion, kindName, name),
            });
            return;
        }

        if (string.IsNullOrEmpty(name))
        {
            results.Add(Failed(file, document, listItem, line, null, $"{apiVersion} {kindName} has no metadata.name"));
            return;
        }

        var key = KeyOf(kind.Value, metadata is null ? null : ScalarField(metadata, "namespace"), name);
        var service = ServiceOf(key, metadata);
        if (versionError is not null)
        {
            results.Add(Failed(file, document, listItem, line, key, versionError) with { Service = service });
            return;
        }

        var text = listItem is null ? document.Text : Emit(node);
        IKubernetesObject<V1ObjectMeta> typed;
        try
        {
            typed = Deserialize(kind.Value, text);
        }
        catch (YamlException e)
        {
            var (errorLine, column, message) = Describe(e);
            var where = listItem is null ? $"line {document.FirstLine + errorLine - 1} column {column}: " : "";
            results.Add(Failed(file, document, listItem, line, key, where + message) with { Service = service });
            return;
        }

        ApplyDefaults(typed, key);
        var problems = ManifestValidation.Validate(key, typed);
        if (problems.Count > 0)
        {
            results.Add(new ManifestDocument(file, document.Index, listItem, line)
            {
                Key = key,
                Service = service,
                Errors = [.. problems.Select(p => Error(file, document, listItem, line, key, p))],
            });
            return;
        }

        results.Add(new ManifestDocument(file, document.Index, listItem, line)
        {
            Key = key,
            Service = service,
            Object = new ManifestObject(key, typed, file, document.Index),
        });
    }

    private static void ParseList(
        string file, YamlDocumentText document, int? listItem, int line, YamlMappingNode list, List<ManifestDocument> results)
    {
        if (listItem is not null)
        {
            results.Add(Failed(file, document, listItem, line, null, "a List inside a List is not supported"));
            return;
        }

        switch (Field(list, "items"))
        {
            case null:
            case YamlScalarNode { Value: null or "" or "~" or "null" }:
                return;
            case YamlSequenceNode items:
                for (var i = 0; i < items.Children.Count; i++)
                {
                    ParseObject(file, document, i, items.Children[i], results);
                }

                return;
            case var other:
                results.Add(Failed(file, document, null, line, null, $"items must be a list (found a {NodeKindName(other)})"));
                return;
        }
    }

    private static ManifestObjectKey KeyOf(ManifestKind kind, string? @namespace, string name) =>
        ManifestKindMap.IsNamespaced(kind)
            ? new ManifestObjectKey(kind, string.IsNullOrEmpty(@namespace) ? ServiceName.DefaultNamespace : @namespace, name)
            : new ManifestObjectKey(kind, "", name);

    /// <summary>
    /// Read from the untyped tree like the key, so it is known even when typed decoding fails. A label that is not a
    /// plain non-empty string names nothing, as <see cref="CgroupLb.Model.Services.ClusterObjectParser.OwningService"/> sees it.
    /// </summary>
    private static ServiceName? ServiceOf(ManifestObjectKey key, YamlMappingNode? metadata)
    {
        switch (key.Kind)
        {
            case ManifestKind.Service:
                return new ServiceName(key.Namespace, key.Name);
            case ManifestKind.EndpointSlice:
                var owner = metadata is not null && Field(metadata, "labels") is YamlMappingNode labels
                    ? ScalarField(labels, WellKnownLabels.ServiceName)
                    : null;
                return string.IsNullOrEmpty(owner) ? null : new ServiceName(key.Namespace, owner);
            default:
                return null;
        }
    }

    // kubectl fills in the namespace it sends to the API server; downstream trackers key on it, so it must be explicit.
    private static void ApplyDefaults(IKubernetesObject<V1ObjectMeta> typed, ManifestObjectKey key)
    {
        typed.Metadata.NamespaceProperty = key.Namespace.Length == 0 ? null : key.Namespace;
    }

    // Strict, as kubectl's default --validate=strict: a misspelt field is an error, not a silently missing setting.
    private static IKubernetesObject<V1ObjectMeta> Deserialize(ManifestKind kind, string text) => kind switch
    {
        ManifestKind.Service => KubernetesYaml.Deserialize<V1Service>(text, strict: true),
        ManifestKind.EndpointSlice => KubernetesYaml.Deserialize<V1EndpointSlice>(text, strict: true),
        ManifestKind.Node => KubernetesYaml.Deserialize<V1Node>(text, strict: true),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static string Emit(YamlNode node)
    {
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static YamlNode? Field(YamlMappingNode mapping, string name) =>
        mapping.Children.TryGetValue(new YamlScalarNode(name), out var value) ? value : null;

    private static string? ScalarField(YamlMappingNode mapping, string name) =>
        (Field(mapping, name) as YamlScalarNode)?.Value;

    private static string NodeKindName(YamlNode node) => node switch
    {
        YamlScalarNode => "scalar",
        YamlSequenceNode => "list",
        _ => node.NodeType.ToString().ToLowerInvariant(),
    };

    private static ManifestDocument Failed(
        string file, YamlDocumentText document, int? listItem, int line, ManifestObjectKey? key, string reason) =>
        new(file, document.Index, listItem, line)
        {
            Key = key,
            Errors = [Error(file, document, listItem, line, key, reason)],
        };

    private static ManifestError Error(
        string file, YamlDocumentText document, int? listItem, int line, ManifestObjectKey? key, string reason) =>
        new(file, document.Index, key?.ToString(), reason) { ListItemIndex = listItem, Line = line };

    /// <summary>
    /// YamlDotNet wraps the real cause ("Property 'clusterIp' not found on type ...") in "Exception during
    /// deserialization" and prefixes positions; report the innermost position and cause in the reader's words.
    /// </summary>
    private static (int Line, int Column, string Message) Describe(YamlException exception)
    {
        var located = exception;
        Exception innermost = exception;
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            innermost = e;
            if (e is YamlException { Start.Line: > 0 } inner)
            {
                located = inner;
            }
        }

        var message = PositionPrefix().Replace(innermost.Message, "").TrimEnd('.');
        var unknown = UnknownProperty().Match(message);
        if (unknown.Success)
        {
            var owner = unknown.Groups["type"].Value;
            owner = owner[(owner.LastIndexOf('.') + 1)..];
            message = $"unknown field \"{unknown.Groups["name"].Value}\" in {owner}";
        }

        return ((int)located.Start.Line, (int)located.Start.Column, message);
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex PositionPrefix();

    [GeneratedRegex(@"^Property '(?<name>[^']*)' not found on type '(?<type>[^']*)'$")]
    private static partial Regex UnknownProperty();
}
