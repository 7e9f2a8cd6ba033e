using System.Text.Json;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// A Node as the model reads it: metadata (its labels give the zone) and status.addresses. The rest of a Node (images,
/// conditions, capacity, daemon endpoints: most of its bytes) is skipped.
/// </summary>
internal static class NodeJson
{
    public static V1Node Read(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath _)
    {
        var node = new V1Node();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                node.Metadata = ObjectMetaJson.Read(ref reader, failure);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                node.Status = Status(ref reader, failure);
            }
            else if (reader.ValueTextEquals("apiVersion"u8))
            {
                reader.Read();
                node.ApiVersion = JsonValues.SharedString(ref reader, failure, new FieldPath("apiVersion"));
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                node.Kind = JsonValues.SharedString(ref reader, failure, new FieldPath("kind"));
            }
            else
            {
                reader.Skip();
            }
        }

        return node;
    }

    private static V1NodeStatus? Status(ref Utf8JsonReader reader, ObjectDecodeFailure failure)
    {
        if (!JsonValues.IsObject(ref reader, failure, new FieldPath("status"))) return null;
        var status = new V1NodeStatus();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("addresses"u8))
            {
                reader.Read();
                status.Addresses = JsonValues.Objects(ref reader, failure, new FieldPath("status.addresses"), Address);
            }
            else
            {
                reader.Skip();
            }
        }

        return status;
    }

    private static V1NodeAddress Address(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        var address = new V1NodeAddress();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("address"u8))
            {
                reader.Read();
                address.Address = JsonValues.String(ref reader, failure, path with { Middle = "address" });
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                address.Type = JsonValues.SharedString(ref reader, failure, path with { Middle = "type" });
            }
            else
            {
                reader.Skip();
            }
        }

        return address;
    }
}
