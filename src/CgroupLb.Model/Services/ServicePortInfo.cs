using System.Net;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Services;

/// <summary>
/// Everything CgroupLb knows about one service port (kube-proxy's ServicePort). Compared by value: the tracker drops
/// updates that leave this unchanged. <see cref="LoadBalancerIngressIPs"/> are the ingress IPs a proxy programs
/// (<c>ipMode</c> VIP or unset, kube-proxy's LoadBalancerVIPs); those with <c>ipMode: Proxy</c> are kept apart in
/// <see cref="ProxyModeIngressIPs"/>: the load balancer itself delivers that traffic, so no node short-circuits it.
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

    public ServicePortName Name { get; init { field = value; Label = value.ToString(); } } = Name;

    /// <summary>
    /// <see cref="Name"/> as text ("namespace/name:port"), the name every frontend of this port carries: made once
    /// per parsed port (and again by a `with` that changes the name), not once per frontend on every translation.
    /// </summary>
    public string Label { get; private set; } = Name.ToString();

    /// <summary><c>status.loadBalancer.ingress[].ip</c> with <c>ipMode: Proxy</c>: known, never programmed.</summary>
    public EquatableArray<IPAddress> ProxyModeIngressIPs { get; init; }

    /// <summary>
    /// Whether the port accepts traffic from outside the cluster at all (kube-proxy's ExternallyAccessible): a
    /// NodePort, an external IP or a load-balancer IP.
    /// </summary>
    public bool ExternallyAccessible => NodePort != 0 || ExternalIPs.Count > 0 || LoadBalancerIngressIPs.Count > 0;

    public override string ToString() => $"{Name} {Port}/{Protocol.ToString().ToUpperInvariant()}";
}
