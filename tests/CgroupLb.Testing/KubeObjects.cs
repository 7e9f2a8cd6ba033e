using k8s.Models;

namespace CgroupLb.Testing;

/// <summary>
/// Terse builders for the API objects tests feed in (the model, the Kubernetes source, the agent against the fake API
/// server); every field not given is left as the API would omit it. Addresses come from the documentation ranges.
/// </summary>
public static class KubeObjects
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";
    private const string TopologyZoneLabel = "topology.kubernetes.io/zone";

    /// <summary>A ClusterIP Service with one TCP port "http" forwarding to the numeric <paramref name="targetPort"/>.</summary>
    public static V1Service HttpService(string ns, string name, int port = 80, string clusterIp = "198.18.0.10", int targetPort = 8080) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = clusterIp,
            ClusterIPs = [clusterIp],
            Ports = [new V1ServicePort { Name = "http", Port = port, Protocol = "TCP", TargetPort = targetPort }],
        },
    };

    /// <summary>An IPv4 slice of ready endpoints on TCP port "http" 8080, matching <see cref="HttpService"/>.</summary>
    public static V1EndpointSlice ReadySlice(string ns, string service, string name, params string[] addresses) =>
        ReadySlice(ns, service, name, 8080, addresses);

    /// <summary>An IPv4 slice of ready endpoints on TCP port "http" <paramref name="port"/>.</summary>
    public static V1EndpointSlice ReadySlice(string ns, string service, string name, int port, params string[] addresses) =>
        Slice(ns, name, service, "IPv4", [SlicePort("http", port)], [.. addresses.Select(a => Endpoint(a, ready: true, serving: true, terminating: false))]);

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
            Labels = new Dictionary<string, string> { [ServiceNameLabel] = service },
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
            Labels = zone is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [TopologyZoneLabel] = zone },
        },
    };

    /// <summary>A copy through the JSON the API would send, so tests can mutate it without touching the original.</summary>
    public static T Clone<T>(T value) => k8s.KubernetesJson.Deserialize<T>(k8s.KubernetesJson.Serialize(value));
}
