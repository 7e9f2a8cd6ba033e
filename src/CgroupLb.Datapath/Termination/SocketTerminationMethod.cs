namespace CgroupLb.Datapath.Termination;

/// <summary>How sockets of removed backends are closed on this kernel; probed once when the terminator opens.</summary>
public enum SocketTerminationMethod
{
    /// <summary>iter/udp and iter/tcp programs calling the bpf_sock_destroy kfunc (Linux 6.5+).</summary>
    BpfIterator,

    /// <summary>netlink SOCK_DESTROY through inet_diag (CONFIG_INET_DIAG_DESTROY).</summary>
    Netlink,

    /// <summary>Neither is available: sockets stay connected until the application notices.</summary>
    None,
}
