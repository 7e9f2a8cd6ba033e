using System.Text.Json;
using CgroupLb.Model.Kubernetes;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// The metadata the reflector and the model read: name, namespace, uid, resourceVersion, labels, and of the annotations
/// only <see cref="ChangeTriggerTime.Annotation"/>. managedFields, ownerReferences, the other annotations (often the
/// largest part of an API object: a last-applied-configuration copy) and every timestamp are skipped without being
/// materialised.
/// </summary>
internal static class ObjectMetaJson
{
    public static V1ObjectMeta? Read(ref Utf8JsonReader reader, ObjectDecodeFailure failure)
    {
        var path = new FieldPath("metadata");
        if (!JsonValues.IsObject(ref reader, failure, path)) return null;
        var meta = new V1ObjectMeta();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                meta.Name = JsonValues.String(ref reader, failure, path with { Middle = "name" });
            }
            else if (reader.ValueTextEquals("namespace"u8))
            {
                reader.Read();
                meta.NamespaceProperty = JsonValues.SharedString(ref reader, failure, path with { Middle = "namespace" });
            }
            else if (reader.ValueTextEquals("uid"u8))
            {
                reader.Read();
                meta.Uid = JsonValues.String(ref reader, failure, path with { Middle = "uid" });
            }
            else if (reader.ValueTextEquals("resourceVersion"u8))
            {
                reader.Read();
                meta.ResourceVersion = JsonValues.String(ref reader, failure, path with { Middle = "resourceVersion" });
            }
            else if (reader.ValueTextEquals("labels"u8))
            {
                reader.Read();
                meta.Labels = JsonValues.StringMap(ref reader, failure, path with { Middle = "labels" });
            }
            else if (reader.ValueTextEquals("annotations"u8))
            {
                reader.Read();
                meta.Annotations = JsonValues.StringMap(ref reader, failure, path with { Middle = "annotations" }, IsKeptAnnotation);
            }
            else
            {
                reader.Skip();
            }
        }

        return meta;
    }

    /// <summary>namespace/name (or name), the reflector store's key; null without a name.</summary>
    public static string? KeyOf(V1ObjectMeta? meta) =>
        string.IsNullOrEmpty(meta?.Name) ? null
        : string.IsNullOrEmpty(meta.NamespaceProperty) ? meta.Name : $"{meta.NamespaceProperty}/{meta.Name}";

    private static bool IsKeptAnnotation(string key) => key == ChangeTriggerTime.Annotation;
}
