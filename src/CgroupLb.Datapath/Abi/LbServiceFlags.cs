namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>enum lb_service_flags</c>: the bits of a master entry's flags field.</summary>
[Flags]
internal enum LbServiceFlags : ushort
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
