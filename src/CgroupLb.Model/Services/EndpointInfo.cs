using System.Net;

namespace CgroupLb.Model.Services;

/// <summary>
/// One endpoint of one service port (kube-proxy's Endpoint): the pod address, the port resolved from its
/// EndpointSlice, its conditions and where it runs. Topology-aware routing reads only the hints (as kube-proxy
/// does); <see cref="Zone"/> is kept for display.
/// </summary>
public sealed record EndpointInfo(
    IPAddress Address,
    ushort Port,
    bool Ready,
    bool Serving,
    bool Terminating,
    string? NodeName,
    string? Zone,
    Kubernetes.EquatableArray<string> ZoneHints,
    Kubernetes.EquatableArray<string> NodeHints)
{
    public bool IsLocalTo(string nodeName) => NodeName is { Length: > 0 } && NodeName == nodeName;

    public override string ToString() =>
        $"{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}";
}
