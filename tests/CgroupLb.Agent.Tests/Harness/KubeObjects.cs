using k8s.Models;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>The objects of a <see cref="WebManifest"/> as the API server holds them, for the fake API server.</summary>
public static class KubeObjects
{
    public static V1Service Service(WebManifest web) => new()
    {
        Metadata = new V1ObjectMeta { Name = web.Name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = web.ClusterIp.ToString(),
            ClusterIPs = [web.ClusterIp.ToString()],
            Ports = [new V1ServicePort { Name = "http", Port = WebManifest.Port, Protocol = "TCP", TargetPort = web.TargetPort }],
        },
    };

    public static V1EndpointSlice EndpointSlice(WebManifest web) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = web.SliceName,
            NamespaceProperty = "default",
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = web.Name },
        },
        AddressType = "IPv4",
        Endpoints = web.Endpoints.Select(address => new V1Endpoint
        {
            Addresses = [address.ToString()],
            Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false },
        }).ToList(),
        Ports = [new Discoveryv1EndpointPort { Name = "http", Port = web.TargetPort, Protocol = "TCP" }],
    };
}
