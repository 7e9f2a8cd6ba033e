using System.Net;
using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// A NETLINK_ROUTE socket for interface addresses: <see cref="Dump"/> lists every address (RTM_GETADDR), and a socket
/// opened with <c>subscribe</c> also receives RTM_NEWADDR/RTM_DELADDR as they happen (RTMGRP_IPV4_IFADDR and
/// RTMGRP_IPV6_IFADDR) through <see cref="Receive"/>. Like every socket it belongs to the network namespace its
/// creating thread was in. Owned by the caller. A subscriber that falls behind loses notifications: <see cref="Receive"/>
/// then throws a <see cref="BpfException"/> with ENOBUFS, and the caller dumps again.
/// </summary>
public sealed class RtnetlinkAddressSocket : IDisposable
{
    private const int NetlinkRoute = 0;
    private const ushort RtmNewAddr = 20;
    private const ushort RtmDelAddr = 21;
    private const ushort RtmGetAddr = 22;
    private const uint RtmgrpIpv4Ifaddr = 0x10;
    private const uint RtmgrpIpv6Ifaddr = 0x100;
    private const ushort IfaAddress = 1;
    private const ushort IfaLocal = 2;
    private const byte AfInet = 2;
    private const byte AfInet6 = 10;

    private readonly NetlinkSocket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private uint _sequence;

    private RtnetlinkAddressSocket(NetlinkSocket socket) => _socket = socket;

    /// <summary>
    /// Opens the socket in the calling thread's network namespace; with <paramref name="subscribe"/> it joins the IPv4
    /// and IPv6 address groups. <paramref name="receiveTimeout"/> bounds each <see cref="Receive"/>, so a reader loop can
    /// notice cancellation.
    /// </summary>
    public static RtnetlinkAddressSocket Open(bool subscribe, TimeSpan receiveTimeout) =>
        new(NetlinkSocket.Open(NetlinkRoute, "NETLINK_ROUTE", subscribe ? RtmgrpIpv4Ifaddr | RtmgrpIpv6Ifaddr : 0, receiveTimeout));

    /// <summary>Every address of every interface of this socket's namespace, both families.</summary>
    public unsafe List<InterfaceAddress> Dump()
    {
        var request = new Request
        {
            Header = new NetlinkHeader
            {
                Length = (uint)sizeof(Request), Type = RtmGetAddr, Flags = NetlinkHeader.NlmFRequest | NetlinkHeader.NlmFDump, Sequence = ++_sequence,
            },
        };
        _socket.Send(request);
        var addresses = new List<InterfaceAddress>();
        while (true)
        {
            int received = _socket.Receive(_buffer) ?? throw new BpfException("recv", (int)Errno.EAGAIN, "netlink", "RTM_GETADDR", "no dump reply in time");
            if (Parse(_buffer.AsSpan(0, received), addresses, request.Header.Sequence))
                return addresses;
        }
    }

    /// <summary>The address notifications of one read; empty when none arrived within the receive timeout.</summary>
    public List<InterfaceAddress> Receive()
    {
        var changes = new List<InterfaceAddress>();
        if (_socket.Receive(_buffer) is int received)
            Parse(_buffer.AsSpan(0, received), changes, sequence: null);
        return changes;
    }

    /// <summary>
    /// Parses one datagram of netlink messages into <paramref name="into"/>; true at NLMSG_DONE of the dump
    /// <paramref name="sequence"/>. Internal for the parser's unit test.
    /// </summary>
    internal static bool Parse(ReadOnlySpan<byte> datagram, List<InterfaceAddress> into, uint? sequence)
    {
        int headerSize = Marshal.SizeOf<NetlinkHeader>();
        int offset = 0;
        while (offset + headerSize <= datagram.Length)
        {
            var header = MemoryMarshal.Read<NetlinkHeader>(datagram[offset..]);
            if (header.Length < headerSize || offset + header.Length > datagram.Length)
                throw new BpfException("recv", (int)Errno.EIO, "netlink", "NETLINK_ROUTE", "truncated address message");
            var payload = datagram.Slice(offset + headerSize, (int)header.Length - headerSize);
            bool ours = sequence is null || header.Sequence == sequence;
            switch (header.Type)
            {
                case NetlinkHeader.NlmsgDone when sequence is not null && ours:
                    return true;
                case NetlinkHeader.NlmsgError when ours && payload.Length >= sizeof(int):
                    int error = MemoryMarshal.Read<int>(payload);
                    if (error != 0)
                        throw new BpfException("RTM_GETADDR", -error, "netlink", "NETLINK_ROUTE");
                    break;
                case RtmNewAddr or RtmDelAddr when ours && ParseAddress(payload, header.Type == RtmDelAddr) is { } address:
                    into.Add(address);
                    break;
            }
            offset += (int)((header.Length + 3) & ~3u);
        }
        return false;
    }

    // struct ifaddrmsg (8 bytes), then attributes; IFA_LOCAL is the address of a point-to-point link's own end,
    // IFA_ADDRESS its peer, and only IFA_ADDRESS is sent for IPv6.
    private static InterfaceAddress? ParseAddress(ReadOnlySpan<byte> payload, bool removed)
    {
        const int ifaddrmsgSize = 8;
        if (payload.Length < ifaddrmsgSize)
            return null;
        byte family = payload[0];
        int length = family == AfInet ? 4 : family == AfInet6 ? 16 : 0;
        if (length == 0)
            return null;
        byte prefix = payload[1];
        byte scope = payload[3];
        int index = MemoryMarshal.Read<int>(payload[4..]);
        byte[]? local = null, address = null;
        int offset = ifaddrmsgSize;
        while (offset + 4 <= payload.Length)
        {
            ushort attributeLength = MemoryMarshal.Read<ushort>(payload[offset..]);
            ushort type = MemoryMarshal.Read<ushort>(payload[(offset + 2)..]);
            if (attributeLength < 4 || offset + attributeLength > payload.Length)
                break;
            var value = payload.Slice(offset + 4, attributeLength - 4);
            if (value.Length == length)
            {
                if (type == IfaLocal)
                    local = value.ToArray();
                else if (type == IfaAddress)
                    address = value.ToArray();
            }
            offset += (attributeLength + 3) & ~3;
        }
        var bytes = local ?? address;
        return bytes is null ? null : new InterfaceAddress(new IPAddress(bytes), prefix, index, scope, removed);
    }

    /// <summary>Closes the netlink socket.</summary>
    public void Dispose() => _socket.Dispose();

    // RTM_GETADDR: nlmsghdr + struct ifaddrmsg (AF_UNSPEC: both families), 24 bytes.
    [StructLayout(LayoutKind.Sequential)]
    private struct Request
    {
        public NetlinkHeader Header;
        public byte Family;
        public byte PrefixLength;
        public byte Flags;
        public byte Scope;
        public int Index;
    }
}
