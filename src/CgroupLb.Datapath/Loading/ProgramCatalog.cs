using CgroupLb.Interop;

namespace CgroupLb.Datapath.Loading;

/// <summary>The programs of cgroup_lb.bpf.o, each attached to the target cgroup through a link pinned under its name.</summary>
internal static class ProgramCatalog
{
    public const string Connect4 = "cglb_sock4_connect";
    public const string Sendmsg4 = "cglb_sock4_sendmsg";
    public const string Recvmsg4 = "cglb_sock4_recvmsg";
    public const string Getpeername4 = "cglb_sock4_getpeername";

    /// <summary>The IPv6 hooks; connect6 and recvmsg6/getpeername6 also serve v4-mapped addresses through the IPv4 maps.</summary>
    public const string Connect6 = "cglb_sock6_connect";
    public const string Sendmsg6 = "cglb_sock6_sendmsg";
    public const string Recvmsg6 = "cglb_sock6_recvmsg";
    public const string Getpeername6 = "cglb_sock6_getpeername";

    public static readonly IReadOnlyList<string> All = [Connect4, Sendmsg4, Recvmsg4, Getpeername4, Connect6, Sendmsg6, Recvmsg6, Getpeername6];

    /// <summary>The cgroup hook each program runs on (its ELF section says the same to libbpf).</summary>
    public static readonly IReadOnlyDictionary<string, BpfAttachType> Hooks = new Dictionary<string, BpfAttachType>
    {
        [Connect4] = BpfAttachType.CgroupInet4Connect,
        [Sendmsg4] = BpfAttachType.CgroupUdp4Sendmsg,
        [Recvmsg4] = BpfAttachType.CgroupUdp4Recvmsg,
        [Getpeername4] = BpfAttachType.CgroupInet4Getpeername,
        [Connect6] = BpfAttachType.CgroupInet6Connect,
        [Sendmsg6] = BpfAttachType.CgroupUdp6Sendmsg,
        [Recvmsg6] = BpfAttachType.CgroupUdp6Recvmsg,
        [Getpeername6] = BpfAttachType.CgroupInet6Getpeername,
    };
}
