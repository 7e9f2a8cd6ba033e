using System.Text.Json;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// Decodes one line of a watch stream (<c>{"type":"MODIFIED","object":{...}}</c>) with the per-kind readers the list
/// pages use (<see cref="ServiceJson"/>, <see cref="EndpointSliceJson"/>, <see cref="NodeJson"/>). An ADDED or MODIFIED
/// object with a value of the wrong type is refused alone (<see cref="WatchEventLine{T}.Refused"/>, naming it, the field, and its
/// resourceVersion so the stream can move past it); KubernetesClient's watcher failed the line as a whole. An ERROR
/// event's object is read as a Status. A line that is not JSON, not an event, or of an unknown type throws
/// (<see cref="JsonException"/>, <see cref="InvalidDataException"/>): the stream cannot be trusted after it.
/// </summary>
public static class WatchEventJson
{
    public static WatchEventLine<V1Service> Service(ReadOnlySpan<byte> line) => Read(line, ServiceJson.Read);

    public static WatchEventLine<V1EndpointSlice> EndpointSlice(ReadOnlySpan<byte> line) => Read(line, EndpointSliceJson.Read);

    public static WatchEventLine<V1Node> Node(ReadOnlySpan<byte> line) => Read(line, NodeJson.Read);

    private static WatchEventLine<T> Read<T>(ReadOnlySpan<byte> line, ItemReader<T> readObject)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 128 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("a watch event must be a JSON object");
        }

        WatchEventType? type = null;
        var objectStart = -1;
        var objectEnd = -1;
        WatchEventLine<T>? decoded = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = EventType(ref reader);
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                if (type is { } known)
                {
                    // The API server writes the type first: the object is decoded as it is read.
                    decoded = Event(ref reader, known, readObject);
                }
                else
                {
                    // Any other order is valid JSON too: remember where the object is and decode it once the type is known.
                    objectStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    objectEnd = (int)reader.BytesConsumed;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        var eventType = type ?? throw new InvalidDataException("a watch event without a type");
        if (decoded is { } inOrder)
        {
            return inOrder;
        }

        if (objectStart < 0)
        {
            throw new InvalidDataException($"a {eventType} watch event without an object");
        }

        var objectReader = new Utf8JsonReader(line[objectStart..objectEnd], new JsonReaderOptions { MaxDepth = 128 });
        objectReader.Read();
        return Event(ref objectReader, eventType, readObject);
    }

    private static WatchEventLine<T> Event<T>(ref Utf8JsonReader reader, WatchEventType type, ItemReader<T> readObject)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException($"a {type} watch event's object must be a JSON object, found {reader.TokenType}");
        }

        if (type == WatchEventType.Error)
        {
            return new WatchEventLine<T>(type, null) { Status = Status(ref reader) };
        }

        var failure = new ObjectDecodeFailure();
        var obj = readObject(ref reader, failure, new FieldPath("object"));
        if (failure.Failed && type is WatchEventType.Added or WatchEventType.Modified)
        {
            // Only a created or updated object's fields reach the model. Of a deleted object the store needs its key, of
            // a bookmark its resourceVersion: a bad value elsewhere in them is no reason to keep a deleted object alive.
            return new WatchEventLine<T>(type, null)
            {
                Refused = new RefusedObject(ObjectMetaJson.KeyOf(obj.Metadata), failure.Reason!) { ResourceVersion = obj.Metadata?.ResourceVersion },
            };
        }

        return new WatchEventLine<T>(type, obj);
    }

    private static WatchEventType EventType(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new InvalidDataException($"a watch event's type must be a string, found {reader.TokenType}");
        }

        if (reader.ValueTextEquals("ADDED"u8)) return WatchEventType.Added;
        if (reader.ValueTextEquals("MODIFIED"u8)) return WatchEventType.Modified;
        if (reader.ValueTextEquals("DELETED"u8)) return WatchEventType.Deleted;
        if (reader.ValueTextEquals("BOOKMARK"u8)) return WatchEventType.Bookmark;
        if (reader.ValueTextEquals("ERROR"u8)) return WatchEventType.Error;
        throw new InvalidDataException($"unknown watch event type '{reader.GetString()}'");
    }

    /// <summary>The fields of an ERROR event's Status the reflector classifies by; a field of the wrong type is left null.</summary>
    private static V1Status Status(ref Utf8JsonReader reader)
    {
        var status = new V1Status();
        var failure = new ObjectDecodeFailure();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                status.Code = JsonValues.Int(ref reader, failure, new FieldPath("code"));
            }
            else if (reader.ValueTextEquals("reason"u8))
            {
                reader.Read();
                status.Reason = JsonValues.String(ref reader, failure, new FieldPath("reason"));
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                status.Message = JsonValues.String(ref reader, failure, new FieldPath("message"));
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                status.Status = JsonValues.String(ref reader, failure, new FieldPath("status"));
            }
            else
            {
                reader.Skip();
            }
        }

        return status;
    }
}
