using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// The fallback for kernels without bpf_sock_destroy: list the namespace's IPv4 and IPv6 sockets with inet_diag, keep
/// those whose peer is a removed backend and which the LB translated from that frontend (the rule of the BPF path,
/// <see cref="TranslatedSockets"/>: the socket's lb4/lb6_sk_frontend storage, which the dump carries for TCP, then
/// the family's reverse map), and close them with SOCK_DESTROY. An AF_INET6 socket with a v4-mapped peer reached an
/// IPv4 Service through the IPv4 core, so its entries are IPv4 ones, as in sock_term_visit().
/// </summary>
internal static class NetlinkTerminator
{
    private const byte AfInet = 2;
    private const byte AfInet6 = 10;
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
            int errno = diag.Destroy(new InetDiagSocket(AfInet, IpProtoUdp, 0, default, 0, default, 0, 0, ulong.MaxValue));
            return errno is 0 or (int)Errno.ENOENT ? null : $"SOCK_DESTROY answered {BpfException.Describe(errno)}";
        }
        catch (BpfException ex)
        {
            return ex.Message;
        }
    }

    /// <param name="maps">The pinned reverse maps and socket storages of the data path.</param>
    /// <param name="owners">Where a UDP socket's storage is read, which the dump does not carry.</param>
    public static (int Closed, int Failed) RunInCurrentNamespace(TerminationTargets targets, ReverseMaps maps, SocketOwners owners, bool includeTcp)
    {
        int closed = 0, failed = 0;
        using var diag = SockDiagSocket.Open();
        foreach (var (protocol, states) in new[] { (IpProtoUdp, UdpConnectedStates), (IpProtoTcp, TcpConnectedStates) })
        {
            if (protocol == IpProtoTcp && !includeTcp)
                continue;
            foreach (byte family in new[] { AfInet, AfInet6 })
            {
                if (family == AfInet && targets.Keys.Count == 0)
                    continue; // AF_INET6 is always listed: its v4-mapped sockets hold IPv4 entries
                // An AF_INET6 socket may hold either family's entry (v4-mapped peers are the IPv4 core's), so its dump asks
                // for both storages; the values come back in this order.
                List<BpfMapHandle> storages = [];
                if (protocol == IpProtoTcp && maps.Frontends4 is not null)
                    storages.Add(maps.Frontends4);
                if (protocol == IpProtoTcp && family == AfInet6 && maps.Frontends6 is not null)
                    storages.Add(maps.Frontends6);
                foreach (InetDiagSocket socket in diag.Dump(family, protocol, states, storages))
                {
                    if (!IsTarget(socket, targets, maps, storages, owners))
                        continue;
                    int errno = diag.Destroy(socket);
                    if (errno is 0)
                        closed++;
                    else if (errno != (int)Errno.ENOENT) // closed by its owner meanwhile
                        failed++;
                }
            }
        }
        return (closed, failed);
    }

    private static bool IsTarget(InetDiagSocket socket, TerminationTargets targets, ReverseMaps maps, List<BpfMapHandle> storages, SocketOwners owners)
    {
        byte protocol = socket.Protocol;
        ushort port = socket.DestinationPortBe;
        if (socket.Family == AfInet || socket.Destination.IsV4Mapped)
        {
            uint address = socket.Family == AfInet ? socket.Destination.Word0 : socket.Destination.MappedIpv4Be;
            if (!targets.HasBackend(address, port, protocol))
                return false;
            byte[]? storage = Storage(socket, maps.Frontends4, storages, owners);
            return TranslatedSockets.TryGetFrontend(maps.Reverse4, maps.Claims4, socket.Cookie, storage, address, port, out var frontend)
                && targets.Contains(address, port, protocol, frontend);
        }

        Span<byte> bytes = stackalloc byte[16];
        socket.Destination.CopyTo(bytes);
        var address6 = System.Runtime.InteropServices.MemoryMarshal.Read<Lb6Address>(bytes);
        if (!targets.HasBackend6(address6, port, protocol))
            return false;
        byte[]? storage6 = Storage(socket, maps.Frontends6, storages, owners);
        return TranslatedSockets.TryGetFrontend6(maps.Reverse6, maps.Claims6, socket.Cookie, storage6, address6, port, out var frontend6)
            && targets.Contains6(address6, port, protocol, frontend6);
    }

    // The socket's value in one storage map: from the dump for TCP, through a borrowed fd for UDP (the dump has none).
    private static byte[]? Storage(InetDiagSocket socket, BpfMapHandle? map, List<BpfMapHandle> asked, SocketOwners owners)
    {
        if (map is null)
            return null;
        int index = asked.IndexOf(map);
        return index >= 0 ? socket.StorageValues[index] : owners.ReadStorage(map, socket.Inode);
    }

    /// <summary>The data path's pinned maps the rule reads; each storage is null where the data path keeps none.</summary>
    internal sealed record ReverseMaps(BpfMapHandle Reverse4, BpfMapHandle? Frontends4, BpfMapHandle? Reverse6, BpfMapHandle? Frontends6, BpfMapHandle? Claims4 = null, BpfMapHandle? Claims6 = null);
}
