namespace CgroupLb.Model.LoadBalancing;

/// <summary>Frontend flags; the values are those of <c>enum lb_service_flags</c> in bpf/lib/lb_abi.h.</summary>
[Flags]
public enum ServiceFlags : ushort
{
    None = 0,
    ClusterIp = 1 << 0,
    NodePort = 1 << 1,
    ExternalIp = 1 << 2,
    LoadBalancer = 1 << 3,
    Affinity = 1 << 4,
    LocalOnly = 1 << 5,
    HostOnly = 1 << 6,
}
