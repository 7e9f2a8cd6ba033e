using k8s.Models;
using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Model.Tests.Support;

/// <summary>Terse builders for the API objects tests feed in; every field not given is left as the API would omit it.</summary>
internal static class Objects
{
    public static V1Service Service(
        string name,
        string? clusterIp,
        params V1ServicePort[] ports) => Service("default", name, clusterIp, ports);

    public static V1Service Service(string ns, string name, string? clusterIp, params V1ServicePort[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = clusterIp,
            ClusterIPs = clusterIp is null ? null : [clusterIp],
            Ports = ports.ToList(),
        },
    };

    public static V1ServicePort Port(string? name, int port, string? protocol = "TCP", string? targetPort = null) => new()
    {
        Name = name,
        Port = port,
        Protocol = protocol,
        TargetPort = targetPort is null ? null : (IntOrString)targetPort,
    };

    public static V1EndpointSlice Slice(
        string name,
        string service,
        Discoveryv1EndpointPort[] ports,
        params V1Endpoint[] endpoints) => Slice("default", name, service, "IPv4", ports, endpoints);

    public static V1EndpointSlice Slice(
        string ns,
        string name,
        string service,
        string addressType,
        Discoveryv1EndpointPort[] ports,
        params V1Endpoint[] endpoints) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { [WellKnownLabels.ServiceName] = service },
        },
        AddressType = addressType,
        Ports = ports.ToList(),
        Endpoints = endpoints.ToList(),
    };

    public static Discoveryv1EndpointPort SlicePort(string? name, int? port, string? protocol = "TCP") =>
        new() { Name = name, Port = port, Protocol = protocol };

    public static V1Endpoint Endpoint(
        string address,
        bool? ready = null,
        bool? serving = null,
        bool? terminating = null,
        string? node = null,
        string? zone = null) => new()
    {
        Addresses = [address],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating },
        NodeName = node,
        Zone = zone,
    };

    public static V1Node Node(string name, string? zone = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = zone is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [WellKnownLabels.TopologyZone] = zone },
        },
    };

    /// <summary>A copy through the JSON the API would send, so tests can mutate it without touching the original.</summary>
    public static T Clone<T>(T value) => k8s.KubernetesJson.Deserialize<T>(k8s.KubernetesJson.Serialize(value));
}
