using System.Net;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Services;

/// <summary>
/// Everything CgroupLb knows about one service port (kube-proxy's ServicePort), including what the data path does
/// not use yet (NodePort, external and load-balancer addresses, external traffic policy), so adding those later
/// changes the translator only. Compared by value: the tracker drops updates that leave this unchanged.
/// </summary>
public sealed record ServicePortInfo(
    ServicePortName Name,
    EquatableArray<IPAddress> ClusterIPs,
    ushort Port,
    L4Protocol Protocol,
    string? TargetPort,
    ushort NodePort,
    bool ClientIpAffinity,
    uint AffinityTimeoutSeconds,
    TrafficPolicy InternalTrafficPolicy,
    TrafficPolicy ExternalTrafficPolicy,
    EquatableArray<IPAddress> ExternalIPs,
    EquatableArray<IPAddress> LoadBalancerIngressIPs,
    ushort HealthCheckNodePort,
    string? TrafficDistribution)
{
    /// <summary>kube-proxy's default when sessionAffinityConfig leaves the timeout out: three hours.</summary>
    public const uint DefaultAffinityTimeoutSeconds = 10800;

    public override string ToString() => $"{Name} {Port}/{Protocol.ToString().ToUpperInvariant()}";
}
