namespace CgroupLb.Interop;

/// <summary>
/// One socket as inet_diag reports it (<c>struct inet_diag_msg</c>): addresses and ports in network byte order, as
/// the kernel holds them, and the socket cookie (the value bpf_get_socket_cookie() returns for the same socket).
/// </summary>
/// <param name="Family">AF_INET or AF_INET6 (the dump's family).</param>
/// <param name="Protocol">IPPROTO_TCP or IPPROTO_UDP (the dump's protocol).</param>
/// <param name="State">Kernel socket state (TCP_ESTABLISHED = 1 for a connected UDP socket).</param>
/// <param name="Source">Local address.</param>
/// <param name="SourcePortBe">Local port.</param>
/// <param name="Destination">Peer address; all zero when not connected.</param>
/// <param name="DestinationPortBe">Peer port; 0 when not connected.</param>
/// <param name="Interface">Bound interface index, 0 for none.</param>
/// <param name="Cookie">The socket cookie.</param>
public readonly record struct InetDiagSocket(
    byte Family,
    byte Protocol,
    byte State,
    InetDiagAddress Source,
    ushort SourcePortBe,
    InetDiagAddress Destination,
    ushort DestinationPortBe,
    uint Interface,
    ulong Cookie)
{
    /// <summary>
    /// The socket's values in the socket-storage maps the dump asked for, in the order they were asked; an element is
    /// null when the socket has no value in that map. Empty when none was asked.
    /// </summary>
    public IReadOnlyList<byte[]?> StorageValues { get; init; } = [];

    /// <summary>The socket's inode ("socket:[inode]" under /proc/PID/fd of its owners); 0 when unknown.</summary>
    public uint Inode { get; init; }
}
