using System.Net;

namespace CgroupLb.Model.Services;

/// <summary>
/// One endpoint of one service port (kube-proxy's Endpoint): the pod address, the port resolved from its
/// EndpointSlice, its conditions and where it runs. Zone and hints are kept for topology-aware routing.
/// </summary>
public sealed record EndpointInfo(
    IPAddress Address,
    ushort Port,
    bool Ready,
    bool Serving,
    bool Terminating,
    string? NodeName,
    string? Zone,
    Kubernetes.EquatableArray<string> ZoneHints)
{
    public bool IsLocalTo(string nodeName) => NodeName is { Length: > 0 } && NodeName == nodeName;

    public override string ToString() =>
        $"{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}";
}
