using System.Text.RegularExpressions;
using CgroupLb.Model.Kubernetes;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace CgroupLb.Manifests;

/// <summary>
/// Turns one document's text into <see cref="ManifestDocument"/>s (several for a <c>v1 List</c>). The text is parsed
/// once (<see cref="YamlEventTree"/>); the object's identity is read from that tree first, so that even a document that
/// later fails typed decoding or validation is still known by who it is, which is what lets the source keep that
/// object's last good state; then the same tree is decoded into the typed object (<see cref="ManifestTypedDecoder"/>).
/// </summary>
internal static partial class ManifestDocumentParser
{
    /// <param name="parseYaml">How the text becomes a tree; tests pass <see cref="YamlEventTree.ParseWithYamlDotNet"/> to compare.</param>
    /// <param name="directDecoding">False to decode every object through JSON (<see cref="ManifestTypedDecoder.DecodeViaJson"/>), to compare.</param>
    public static IReadOnlyList<ManifestDocument> Parse(
        string file, YamlDocumentText document, Func<YamlDocumentText, YamlEventTree>? parseYaml = null, bool directDecoding = true)
    {
        YamlEventTree tree;
        try
        {
            tree = parseYaml is null ? YamlEventTree.Parse(document) : parseYaml(document);
        }
        catch (YamlException e)
        {
            var (line, column, message) = Describe(e);
            var fileLine = document.FirstLine + line - 1;
            return [Failed(file, document, null, document.FirstLine, null,
                $"invalid YAML at line {fileLine} column {column}: {message}")];
        }
        catch (YamlLimitException e)
        {
            return [Failed(file, document, null, document.FirstLine, null,
                $"line {document.FirstLine + (int)e.Start.Line - 1} column {e.Start.Column}: {e.Message}")];
        }

        try
        {
            if (tree.Roots.Count == 0)
            {
                return [];
            }

            if (tree.Roots.Count > 1)
            {
                return [Failed(file, document, null, document.FirstLine, null,
                    $"holds {tree.Roots.Count} YAML documents; separate documents with a '---' line")];
            }

            // One object per document but for a List; the reader's cache keeps this list.
            var results = new List<ManifestDocument>(1);
            ParseObject(file, document, null, tree, tree.Roots[0], results, directDecoding);
            return results;
        }
        finally
        {
            // Nothing in the results refers to the tree: its buffers go to the next document.
            tree.Release();
        }
    }

    private static void ParseObject(
        string file, YamlDocumentText document, int? listItem, YamlEventTree tree, int node, List<ManifestDocument> results, bool directDecoding)
    {
        var line = listItem is null ? document.FirstLine : document.FirstLine + (int)tree[tree.Resolve(node)].Start.Line - 1;
        if (!tree.IsMapping(node))
        {
            results.Add(Failed(file, document, listItem, line, null,
                $"is not an object with fields (found a {NodeKindName(tree, node)})"));
            return;
        }

        var apiVersion = tree.RepeatedScalarField(node, "apiVersion");
        var kindName = tree.RepeatedScalarField(node, "kind");
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
            ParseList(file, document, listItem, line, tree, node, results, directDecoding);
            return;
        }

        var metadata = tree.MappingField(node, "metadata");
        var name = metadata is { } m ? tree.ScalarField(m, "name") : null;
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

        var key = KeyOf(kind.Value, metadata is { } withNamespace ? tree.RepeatedScalarField(withNamespace, "namespace") : null, name);
        var service = ServiceOf(key, tree, metadata);
        if (versionError is not null)
        {
            results.Add(Failed(file, document, listItem, line, key, versionError) with { Service = service });
            return;
        }

        IKubernetesObject<V1ObjectMeta> typed;
        try
        {
            typed = ManifestTypedDecoder.Decode(kind.Value, tree, node, directDecoding);
        }
        catch (YamlLimitException e)
        {
            var where = $"line {document.FirstLine + (int)e.Start.Line - 1} column {e.Start.Column}: ";
            results.Add(Failed(file, document, listItem, line, key, where + e.Message) with { Service = service });
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
            Object = new ManifestObject(key, typed, file, document.Index)
            {
                Fingerprint = listItem is { } item ? TextHash.Combine(document.Hash, item) : document.Hash,
            },
        });
    }

    private static void ParseList(
        string file, YamlDocumentText document, int? listItem, int line, YamlEventTree tree, int list, List<ManifestDocument> results,
        bool directDecoding)
    {
        if (listItem is not null)
        {
            results.Add(Failed(file, document, listItem, line, null, "a List inside a List is not supported"));
            return;
        }

        var items = tree.Field(list, "items")?.Value;
        if (items is null || tree.ScalarValue(items.Value) is "" or "~" or "null")
        {
            return;
        }

        if (!tree.IsSequence(items.Value))
        {
            results.Add(Failed(file, document, null, line, null, $"items must be a list (found a {NodeKindName(tree, items.Value)})"));
            return;
        }

        var index = 0;
        foreach (var item in tree.Items(items.Value))
        {
            ParseObject(file, document, index++, tree, item, results, directDecoding);
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
    private static ServiceName? ServiceOf(ManifestObjectKey key, YamlEventTree tree, int? metadata)
    {
        switch (key.Kind)
        {
            case ManifestKind.Service:
                return new ServiceName(key.Namespace, key.Name);
            case ManifestKind.EndpointSlice:
                var owner = metadata is { } m && tree.MappingField(m, "labels") is { } labels
                    ? tree.ScalarField(labels, WellKnownLabels.ServiceName)
                    : null;
                return string.IsNullOrEmpty(owner) ? null : new ServiceName(key.Namespace, owner);
            default:
                return null;
        }
    }

    // kubectl fills in the namespace it sends to the API server; downstream trackers key on it, so it must be explicit.
    // What `kubectl get -o yaml` exports but nothing downstream reads (the field managers, kubectl's copy of the whole
    // object) is dropped before the object is kept: it can be most of an object's size, held for every object.
    private static void ApplyDefaults(IKubernetesObject<V1ObjectMeta> typed, ManifestObjectKey key)
    {
        typed.Metadata ??= new V1ObjectMeta { Name = key.Name };
        typed.Metadata.NamespaceProperty = key.Namespace.Length == 0 ? null : key.Namespace;
        typed.Metadata.ManagedFields = null;
        if (typed.Metadata.Annotations is { } annotations && annotations.Remove(LastAppliedAnnotation) && annotations.Count == 0)
        {
            typed.Metadata.Annotations = null;
        }
    }

    private const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    private static string NodeKindName(YamlEventTree tree, int node) => tree[tree.Resolve(node)] switch
    {
        Scalar => "scalar",
        SequenceStart => "list",
        MappingStart => "mapping",
        var other => other.GetType().Name.ToLowerInvariant(),
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
    /// YamlDotNet wraps the real cause in outer exceptions and prefixes positions; report the innermost position and
    /// cause in the reader's words.
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
        return ((int)located.Start.Line, (int)located.Start.Column, message);
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex PositionPrefix();
}
