using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>Small, valid objects of the kinds the agent watches. Addresses come from the documentation ranges.</summary>
public static class TestObjects
{
    public static V1Service Service(string ns, string name, int port = 80, string clusterIp = "198.18.0.10") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = clusterIp,
            ClusterIPs = [clusterIp],
            Ports = [new V1ServicePort { Name = "http", Port = port, Protocol = "TCP", TargetPort = 8080 }],
        },
    };

    public static V1EndpointSlice EndpointSlice(string ns, string service, string name, params string[] addresses) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        AddressType = "IPv4",
        Endpoints = addresses.Select(address => new V1Endpoint
        {
            Addresses = [address],
            Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false },
        }).ToList(),
        Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
    };

    public static V1Node Node(string name, string zone = "zone-a") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = zone },
        },
    };
}
