namespace CgroupLb.Datapath.Termination;

/// <summary>
/// What socket termination closes and where it looks. The sockets are found in every network namespace that a
/// process of <see cref="CgroupPath"/> (or of a cgroup below it) lives in, through <see cref="ProcPath"/>.
/// </summary>
public sealed record SocketTerminationOptions(string CgroupPath, string BpffsPath)
{
    /// <summary>Also close TCP connections (Cilium's bpf-lb-sock-terminate-pod-connections); connected UDP is always covered.</summary>
    public bool TerminateTcp { get; init; }

    /// <summary>Skip the bpf_sock_destroy iterators and use netlink SOCK_DESTROY, as on a kernel before 6.5 (tests).</summary>
    public bool ForceNetlink { get; init; }

    /// <summary>
    /// Whether the data path keeps reverse entries in socket storage (<c>DatapathFeatures.SocketStorage</c>): false skips
    /// asking inet_diag for lb4_sk_frontend; null (unknown, e.g. adopted programs) reads it whenever it is pinned.
    /// </summary>
    public bool? SocketStorage { get; init; }

    /// <summary>The proc filesystem whose PIDs match the cgroup's cgroup.procs (the host's, with hostPID in a pod).</summary>
    public string ProcPath { get; init; } = "/proc";
}
