using CgroupLb.Interop;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// The fallback for kernels without bpf_sock_destroy: list the namespace's sockets with inet_diag, keep those whose
/// peer is a removed backend and which the LB translated from that frontend (the rule of the BPF path,
/// <see cref="TranslatedSockets"/>: the socket's lb4_sk_frontend storage, which the dump carries, then lb4_reverse_sk),
/// and close them with SOCK_DESTROY.
/// </summary>
internal static class NetlinkTerminator
{
    private const byte IpProtoTcp = 6;
    private const byte IpProtoUdp = 17;

    // 1 << state for the states a socket with a live peer can be in: ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1,
    // FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING. Not TIME_WAIT, CLOSE, LISTEN.
    private const uint TcpConnectedStates = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 11);
    private const uint UdpConnectedStates = 1u << 1;

    /// <summary>
    /// Whether this kernel can SOCK_DESTROY: destroying a socket that cannot exist answers ENOENT when it can,
    /// EOPNOTSUPP without CONFIG_INET_DIAG_DESTROY. Returns null when supported, else the reason.
    /// </summary>
    public static string? Probe()
    {
        try
        {
            using var diag = SockDiagSocket.Open();
            int errno = diag.Destroy(new InetDiagSocket(IpProtoUdp, 0, 0, 0, 0, 0, 0, ulong.MaxValue));
            return errno is 0 or (int)Errno.ENOENT ? null : $"SOCK_DESTROY answered {BpfException.Describe(errno)}";
        }
        catch (BpfException ex)
        {
            return ex.Message;
        }
    }

    /// <param name="socketFrontends">The pinned lb4_sk_frontend when the data path keeps reverse entries there; null when not.</param>
    /// <param name="owners">Where a UDP socket's storage is read, which the dump does not carry.</param>
    public static (int Closed, int Failed) RunInCurrentNamespace(TerminationTargets targets, BpfMapHandle reverseSockets, BpfMapHandle? socketFrontends,
        SocketOwners owners, bool includeTcp)
    {
        int closed = 0, failed = 0;
        using var diag = SockDiagSocket.Open();
        foreach (var (protocol, states) in new[] { (IpProtoUdp, UdpConnectedStates), (IpProtoTcp, TcpConnectedStates) })
        {
            if (protocol == IpProtoTcp && !includeTcp)
                continue;
            foreach (InetDiagSocket socket in diag.DumpIPv4(protocol, states, protocol == IpProtoTcp ? socketFrontends : null))
            {
                if (!targets.HasBackend(socket.DestinationAddressBe, socket.DestinationPortBe, protocol))
                    continue;
                byte[]? storage = socket.StorageValue;
                if (socketFrontends is not null && protocol == IpProtoUdp)
                    storage = owners.ReadStorage(socketFrontends, socket.Inode);
                if (!TranslatedSockets.TryGetFrontend(reverseSockets, socket.Cookie, storage, socket.DestinationAddressBe, socket.DestinationPortBe, out var frontend)
                    || !targets.Contains(socket.DestinationAddressBe, socket.DestinationPortBe, protocol, frontend))
                    continue;
                int errno = diag.Destroy(socket);
                if (errno is 0)
                    closed++;
                else if (errno != (int)Errno.ENOENT) // closed by its owner meanwhile
                    failed++;
            }
        }
        return (closed, failed);
    }
}
