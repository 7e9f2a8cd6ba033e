using System.Text.Json;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// A Service as the model reads it (<c>ClusterObjectParser</c>, <c>ObjectValidator</c>): metadata (see
/// <see cref="ObjectMetaJson"/>), the spec's addressing, ports, affinity and traffic policies, and the load balancer's
/// ingress. Everything else (selector, status conditions, the load balancer's other settings) is skipped.
/// </summary>
internal static class ServiceJson
{
    public static V1Service Read(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath _)
    {
        var service = new V1Service();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                service.Metadata = ObjectMetaJson.Read(ref reader, failure);
            }
            else if (reader.ValueTextEquals("spec"u8))
            {
                reader.Read();
                service.Spec = Spec(ref reader, failure);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                service.Status = Status(ref reader, failure);
            }
            else if (reader.ValueTextEquals("apiVersion"u8))
            {
                reader.Read();
                service.ApiVersion = JsonValues.SharedString(ref reader, failure, new FieldPath("apiVersion"));
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                service.Kind = JsonValues.SharedString(ref reader, failure, new FieldPath("kind"));
            }
            else
            {
                reader.Skip();
            }
        }

        return service;
    }

    private static V1ServiceSpec? Spec(ref Utf8JsonReader reader, ObjectDecodeFailure failure)
    {
        if (!JsonValues.IsObject(ref reader, failure, new FieldPath("spec"))) return null;
        var spec = new V1ServiceSpec();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                spec.Type = JsonValues.SharedString(ref reader, failure, new FieldPath("spec.type"));
            }
            else if (reader.ValueTextEquals("clusterIP"u8))
            {
                reader.Read();
                spec.ClusterIP = JsonValues.String(ref reader, failure, new FieldPath("spec.clusterIP"));
            }
            else if (reader.ValueTextEquals("clusterIPs"u8))
            {
                reader.Read();
                spec.ClusterIPs = JsonValues.Strings(ref reader, failure, new FieldPath("spec.clusterIPs"));
            }
            else if (reader.ValueTextEquals("ipFamilies"u8))
            {
                reader.Read();
                spec.IpFamilies = JsonValues.Strings(ref reader, failure, new FieldPath("spec.ipFamilies"));
            }
            else if (reader.ValueTextEquals("ipFamilyPolicy"u8))
            {
                reader.Read();
                spec.IpFamilyPolicy = JsonValues.SharedString(ref reader, failure, new FieldPath("spec.ipFamilyPolicy"));
            }
            else if (reader.ValueTextEquals("ports"u8))
            {
                reader.Read();
                spec.Ports = JsonValues.Objects(ref reader, failure, new FieldPath("spec.ports"), Port);
            }
            else if (reader.ValueTextEquals("externalIPs"u8))
            {
                reader.Read();
                spec.ExternalIPs = JsonValues.Strings(ref reader, failure, new FieldPath("spec.externalIPs"));
            }
            else if (reader.ValueTextEquals("externalName"u8))
            {
                reader.Read();
                spec.ExternalName = JsonValues.String(ref reader, failure, new FieldPath("spec.externalName"));
            }
            else if (reader.ValueTextEquals("sessionAffinity"u8))
            {
                reader.Read();
                spec.SessionAffinity = JsonValues.SharedString(ref reader, failure, new FieldPath("spec.sessionAffinity"));
            }
            else if (reader.ValueTextEquals("sessionAffinityConfig"u8))
            {
                reader.Read();
                spec.SessionAffinityConfig = AffinityConfig(ref reader, failure);
            }
            else if (reader.ValueTextEquals("externalTrafficPolicy"u8))
            {
                reader.Read();
                spec.ExternalTrafficPolicy = JsonValues.SharedString(ref reader, failure, new FieldPath("spec.externalTrafficPolicy"));
            }
            else if (reader.ValueTextEquals("internalTrafficPolicy"u8))
            {
                reader.Read();
                spec.InternalTrafficPolicy = JsonValues.SharedString(ref reader, failure, new FieldPath("spec.internalTrafficPolicy"));
            }
            else if (reader.ValueTextEquals("healthCheckNodePort"u8))
            {
                reader.Read();
                spec.HealthCheckNodePort = JsonValues.Int(ref reader, failure, new FieldPath("spec.healthCheckNodePort"));
            }
            else if (reader.ValueTextEquals("trafficDistribution"u8))
            {
                reader.Read();
                spec.TrafficDistribution = JsonValues.SharedString(ref reader, failure, new FieldPath("spec.trafficDistribution"));
            }
            else
            {
                reader.Skip();
            }
        }

        return spec;
    }

    private static V1ServicePort Port(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        var port = new V1ServicePort();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                port.Name = JsonValues.SharedString(ref reader, failure, path with { Middle = "name" });
            }
            else if (reader.ValueTextEquals("protocol"u8))
            {
                reader.Read();
                port.Protocol = JsonValues.SharedString(ref reader, failure, path with { Middle = "protocol" });
            }
            else if (reader.ValueTextEquals("port"u8))
            {
                reader.Read();
                // port is a plain int in the model: System.Text.Json refuses null for it, and so do we.
                var at = path with { Middle = "port" };
                if (reader.TokenType == JsonTokenType.Null) failure.Fail(at, "expected an integer, found null");
                else port.Port = JsonValues.Int(ref reader, failure, at) ?? 0;
            }
            else if (reader.ValueTextEquals("targetPort"u8))
            {
                reader.Read();
                port.TargetPort = JsonValues.IntOrString(ref reader, failure, path with { Middle = "targetPort" });
            }
            else if (reader.ValueTextEquals("nodePort"u8))
            {
                reader.Read();
                port.NodePort = JsonValues.Int(ref reader, failure, path with { Middle = "nodePort" });
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

    private static V1SessionAffinityConfig? AffinityConfig(ref Utf8JsonReader reader, ObjectDecodeFailure failure)
    {
        var path = new FieldPath("spec.sessionAffinityConfig");
        if (!JsonValues.IsObject(ref reader, failure, path)) return null;
        var config = new V1SessionAffinityConfig();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("clientIP"u8))
            {
                reader.Skip();
                continue;
            }

            reader.Read();
            var clientPath = path with { Middle = "clientIP" };
            if (!JsonValues.IsObject(ref reader, failure, clientPath))
            {
                config.ClientIP = null;
                continue;
            }

            config.ClientIP = new V1ClientIPConfig();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("timeoutSeconds"u8))
                {
                    reader.Read();
                    config.ClientIP.TimeoutSeconds = JsonValues.Int(ref reader, failure, clientPath with { Tail = "timeoutSeconds" });
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return config;
    }

    private static V1ServiceStatus? Status(ref Utf8JsonReader reader, ObjectDecodeFailure failure)
    {
        var path = new FieldPath("status");
        if (!JsonValues.IsObject(ref reader, failure, path)) return null;
        var status = new V1ServiceStatus();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("loadBalancer"u8))
            {
                reader.Skip();
                continue;
            }

            reader.Read();
            if (!JsonValues.IsObject(ref reader, failure, new FieldPath("status.loadBalancer")))
            {
                status.LoadBalancer = null;
                continue;
            }

            status.LoadBalancer = new V1LoadBalancerStatus();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("ingress"u8))
                {
                    reader.Read();
                    status.LoadBalancer.Ingress = JsonValues.Objects(ref reader, failure, new FieldPath("status.loadBalancer.ingress"), Ingress);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return status;
    }

    private static V1LoadBalancerIngress Ingress(ref Utf8JsonReader reader, ObjectDecodeFailure failure, in FieldPath path)
    {
        var ingress = new V1LoadBalancerIngress();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("ip"u8))
            {
                reader.Read();
                ingress.Ip = JsonValues.String(ref reader, failure, path with { Middle = "ip" });
            }
            else if (reader.ValueTextEquals("ipMode"u8))
            {
                reader.Read();
                ingress.IpMode = JsonValues.SharedString(ref reader, failure, path with { Middle = "ipMode" });
            }
            else if (reader.ValueTextEquals("hostname"u8))
            {
                reader.Read();
                ingress.Hostname = JsonValues.String(ref reader, failure, path with { Middle = "hostname" });
            }
            else
            {
                reader.Skip();
            }
        }

        return ingress;
    }
}
