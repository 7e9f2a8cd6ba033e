using System.Text.Json;
using CgroupLb.Kubernetes.Reflection;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// Decodes one page of a list response (<c>{"metadata":{"resourceVersion","continue"},"items":[...]}</c>) straight
/// into the objects the reflector delivers, reading only the fields the model uses (see <see cref="ServiceJson"/>,
/// <see cref="EndpointSliceJson"/>, <see cref="NodeJson"/>). An item with a value of the wrong type is refused alone
/// (<see cref="ResourceListPage{T}.Refused"/>, naming it and the field) and the rest of the page is kept; KubernetesClient's
/// decoder failed the whole page, and with it every list, on one such object. A page that is not JSON, or whose
/// envelope is not a list, still fails as a whole (<see cref="JsonException"/>, <see cref="InvalidDataException"/>).
/// </summary>
public static class ListPageJson
{
    public static ResourceListPage<V1Service> Services(ReadOnlySpan<byte> body) => Read(body, ServiceJson.Read);

    public static ResourceListPage<V1EndpointSlice> EndpointSlices(ReadOnlySpan<byte> body) => Read(body, EndpointSliceJson.Read);

    public static ResourceListPage<V1Node> Nodes(ReadOnlySpan<byte> body) => Read(body, NodeJson.Read);

    private static ResourceListPage<T> Read<T>(ReadOnlySpan<byte> body, ItemReader<T> readItem)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("a list response must be a JSON object");
        }

        var items = new List<T>();
        var refused = new List<RefusedObject>();
        string? resourceVersion = null;
        string? continueToken = null;
        var failure = new ObjectDecodeFailure();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                (resourceVersion, continueToken) = ListMetadata(ref reader);
            }
            else if (reader.ValueTextEquals("items"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw new InvalidDataException($"a list response's items must be a list, found {reader.TokenType}");
                }

                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    ReadItem(ref reader, readItem, failure, index++, items, refused);
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return new ResourceListPage<T>(items, resourceVersion, continueToken) { Refused = refused };
    }

    private static void ReadItem<T>(
        ref Utf8JsonReader reader, ItemReader<T> readItem, ObjectDecodeFailure failure, int index, List<T> items, List<RefusedObject> refused)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            refused.Add(new RefusedObject(null, $"items[{index}] is {(reader.TokenType == JsonTokenType.Null ? "null" : "not an object")}"));
            reader.Skip();
            return;
        }

        failure.Reset();
        var item = readItem(ref reader, failure, new FieldPath("items", index));
        if (failure.Failed)
        {
            refused.Add(new RefusedObject(ObjectMetaJson.KeyOf(item.Metadata), failure.Reason!));
        }
        else
        {
            items.Add(item);
        }
    }

    private static (string? ResourceVersion, string? Continue) ListMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null) return (null, null);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException($"a list response's metadata must be an object, found {reader.TokenType}");
        }

        string? resourceVersion = null;
        string? continueToken = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("resourceVersion"u8))
            {
                reader.Read();
                resourceVersion = ListString(ref reader, "metadata.resourceVersion");
            }
            else if (reader.ValueTextEquals("continue"u8))
            {
                reader.Read();
                continueToken = ListString(ref reader, "metadata.continue");
            }
            else
            {
                reader.Skip();
            }
        }

        return (resourceVersion, continueToken);
    }

    private static string? ListString(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw new InvalidDataException($"a list response's {field} must be a string, found {reader.TokenType}"),
    };
}
