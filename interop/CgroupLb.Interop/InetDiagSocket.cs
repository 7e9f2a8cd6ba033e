namespace CgroupLb.Interop;

/// <summary>
/// One socket as inet_diag reports it (<c>struct inet_diag_msg</c>): addresses and ports in network byte order, as
/// the kernel holds them, and the socket cookie (the value bpf_get_socket_cookie() returns for the same socket).
/// </summary>
/// <param name="Protocol">IPPROTO_TCP or IPPROTO_UDP (the dump's protocol).</param>
/// <param name="State">Kernel socket state (TCP_ESTABLISHED = 1 for a connected UDP socket).</param>
/// <param name="SourceAddressBe">Local IPv4 address.</param>
/// <param name="SourcePortBe">Local port.</param>
/// <param name="DestinationAddressBe">Peer IPv4 address; 0 when not connected.</param>
/// <param name="DestinationPortBe">Peer port; 0 when not connected.</param>
/// <param name="Interface">Bound interface index, 0 for none.</param>
/// <param name="Cookie">The socket cookie.</param>
public readonly record struct InetDiagSocket(
    byte Protocol,
    byte State,
    uint SourceAddressBe,
    ushort SourcePortBe,
    uint DestinationAddressBe,
    ushort DestinationPortBe,
    uint Interface,
    ulong Cookie)
{
    /// <summary>The socket's value in the socket-storage map the dump asked for; null when it has none or none was asked.</summary>
    public byte[]? StorageValue { get; init; }

    /// <summary>The socket's inode ("socket:[inode]" under /proc/PID/fd of its owners); 0 when unknown.</summary>
    public uint Inode { get; init; }
}
