using System.Text.Json;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// An EndpointSlice as the model reads it: metadata (see <see cref="ObjectMetaJson"/>), addressType, ports, and per
/// endpoint its addresses, conditions, node, zone and topology hints. targetRef, hostname and deprecated fields are
/// skipped.
/// </summary>
internal static class EndpointSliceJson
{
    public static V1EndpointSlice Read(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath _)
    {
        var slice = new V1EndpointSlice();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                slice.Metadata = ObjectMetaJson.Read(ref reader, failure);
            }
            else if (reader.ValueTextEquals("endpoints"u8))
            {
                reader.Read();
                slice.Endpoints = JsonValues.Objects(ref reader, failure, new FieldPath("endpoints"), Endpoint);
            }
            else if (reader.ValueTextEquals("ports"u8))
            {
                reader.Read();
                slice.Ports = JsonValues.Objects(ref reader, failure, new FieldPath("ports"), Port);
            }
            else if (reader.ValueTextEquals("addressType"u8))
            {
                reader.Read();
                slice.AddressType = JsonValues.SharedString(ref reader, failure, new FieldPath("addressType"));
            }
            else if (reader.ValueTextEquals("apiVersion"u8))
            {
                reader.Read();
                slice.ApiVersion = JsonValues.SharedString(ref reader, failure, new FieldPath("apiVersion"));
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                slice.Kind = JsonValues.SharedString(ref reader, failure, new FieldPath("kind"));
            }
            else
            {
                reader.Skip();
            }
        }

        return slice;
    }

    private static V1Endpoint Endpoint(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        var endpoint = new V1Endpoint();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("addresses"u8))
            {
                reader.Read();
                endpoint.Addresses = JsonValues.Strings(ref reader, failure, path with { Middle = "addresses" });
            }
            else if (reader.ValueTextEquals("conditions"u8))
            {
                reader.Read();
                endpoint.Conditions = Conditions(ref reader, failure, path with { Middle = "conditions" });
            }
            else if (reader.ValueTextEquals("nodeName"u8))
            {
                reader.Read();
                endpoint.NodeName = JsonValues.SharedString(ref reader, failure, path with { Middle = "nodeName" });
            }
            else if (reader.ValueTextEquals("zone"u8))
            {
                reader.Read();
                endpoint.Zone = JsonValues.SharedString(ref reader, failure, path with { Middle = "zone" });
            }
            else if (reader.ValueTextEquals("hints"u8))
            {
                reader.Read();
                endpoint.Hints = Hints(ref reader, failure, path with { Middle = "hints" });
            }
            else
            {
                reader.Skip();
            }
        }

        return endpoint;
    }

    private static V1EndpointConditions? Conditions(ref Utf8JsonReader reader, ObjectDecodeFailure failure, FieldPath path)
    {
        if (!JsonValues.IsObject(ref reader, failure, path)) return null;
        var conditions = new V1EndpointConditions();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("ready"u8))
            {
                reader.Read();
                conditions.Ready = JsonValues.Bool(ref reader, failure, path with { Tail = "ready" });
            }
            else if (reader.ValueTextEquals("serving"u8))
            {
                reader.Read();
                conditions.Serving = JsonValues.Bool(ref reader, failure, path with { Tail = "serving" });
            }
            else if (reader.ValueTextEquals("terminating"u8))
            {
                reader.Read();
                conditions.Terminating = JsonValues.Bool(ref reader, failure, path with { Tail = "terminating" });
            }
            else
            {
                reader.Skip();
            }
        }

        return conditions;
    }

    private static V1EndpointHints? Hints(ref Utf8JsonReader reader, ObjectDecodeFailure failure, FieldPath path)
    {
        if (!JsonValues.IsObject(ref reader, failure, path)) return null;
        var hints = new V1EndpointHints();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("forZones"u8))
            {
                reader.Read();
                hints.ForZones = JsonValues.Objects(ref reader, failure, path with { Middle = path.Middle + ".forZones" },
                    static (ref Utf8JsonReader r, ObjectDecodeFailure f, in FieldPath p) => new V1ForZone { Name = OnlyName(ref r, f, p) });
            }
            else if (reader.ValueTextEquals("forNodes"u8))
            {
                reader.Read();
                hints.ForNodes = JsonValues.Objects(ref reader, failure, path with { Middle = path.Middle + ".forNodes" },
                    static (ref Utf8JsonReader r, ObjectDecodeFailure f, in FieldPath p) => new V1ForNode { Name = OnlyName(ref r, f, p) });
            }
            else
            {
                reader.Skip();
            }
        }

        return hints;
    }

    private static string? OnlyName(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        string? name = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = JsonValues.SharedString(ref reader, failure, path with { Tail = "name" });
            }
            else
            {
                reader.Skip();
            }
        }

        return name;
    }

    private static Discoveryv1EndpointPort Port(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        var port = new Discoveryv1EndpointPort();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                port.Name = JsonValues.SharedString(ref reader, failure, path with { Middle = "name" });
            }
            else if (reader.ValueTextEquals("port"u8))
            {
                reader.Read();
                port.Port = JsonValues.Int(ref reader, failure, path with { Middle = "port" });
            }
            else if (reader.ValueTextEquals("protocol"u8))
            {
                reader.Read();
                port.Protocol = JsonValues.SharedString(ref reader, failure, path with { Middle = "protocol" });
            }
            else if (reader.ValueTextEquals("appProtocol"u8))
            {
                reader.Read();
                port.AppProtocol = JsonValues.SharedString(ref reader, failure, path with { Middle = "appProtocol" });
            }
            else
            {
                reader.Skip();
            }
        }

        return port;
    }
}
