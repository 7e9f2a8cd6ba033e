using CgroupLb.Interop;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Kernel capabilities the data path adapts to (Cilium's HAVE_* idea): found by trying, never assumed from a version.
/// <see cref="SetRetval"/> is learnt by the loader, not by libbpf's helper probe: that probe loads without a connect4
/// attach type and so reports bpf_set_retval missing for sock_addr programs even on kernels that have it. The loader
/// loads with it switched on and, if the verifier refuses, loads again with it off. <see cref="SocketStorage"/>
/// (bpf_sk_storage_get in sock_addr programs: reverse entries freed with their socket) is learnt the same way.
/// Null when pinned programs were adopted and nothing was loaded. <see cref="IPv6"/>: the kernel has IPv6 (not
/// booted with ipv6.disable=1), found by opening an AF_INET6 socket. The IPv6 hooks load and attach either way (they
/// need no IPv6 stack); without it the writer refuses IPv6 frontends, which no socket could use.
/// <see cref="RingBuffer"/> (BPF_MAP_TYPE_RINGBUF, Linux 5.8+) is probed by creating one: without it the programs load
/// with tracing compiled out and `cgroup-lb trace` says so. <see cref="RdonlyCast"/> (the bpf_rdonly_cast kfunc, Linux
/// 6.2+: the reverse hooks tell a socket without socket storage by one load instead of a helper call) is learnt like
/// <see cref="SetRetval"/>; it only matters with <see cref="SocketStorage"/>. <see cref="SocketClaims"/>: translated connected
/// sockets (TCP, connected UDP) keep their reverse entries in lb4_sk_claim and lb6_sk_claim (it needs <see cref="RdonlyCast"/>; bpf/lib/sock_claim.h).
/// </summary>
public sealed record DatapathFeatures(bool CgroupSockAddrPrograms, bool? SetRetval, bool? SocketStorage = null, bool IPv6 = true, bool RingBuffer = false,
    bool? RdonlyCast = null, bool? SocketClaims = null)
{
    public static DatapathFeatures Probe() =>
        new(BpfFeatures.ProgramTypeAvailable(BpfProgramType.CgroupSockAddr), SetRetval: null,
            IPv6: System.Net.Sockets.Socket.OSSupportsIPv6, RingBuffer: BpfFeatures.MapTypeAvailable(BpfMapType.Ringbuf));
}
