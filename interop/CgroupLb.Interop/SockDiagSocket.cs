using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// A NETLINK_SOCK_DIAG socket: lists IPv4 and IPv6 sockets (inet_diag) and closes one (SOCK_DESTROY, kernels built with
/// CONFIG_INET_DIAG_DESTROY; needs CAP_NET_ADMIN). Like every socket it belongs to
/// the network namespace its creating thread was in, and sees only that namespace. Owned by the caller.
/// </summary>
public sealed class SockDiagSocket : IDisposable
{
    private const int NetlinkSockDiag = 4;
    private const ushort SockDiagByFamily = 20;
    private const ushort SockDestroy = 21;
    private const byte AfInet = 2;
    private const byte AfInet6 = 10;
    private const ushort NlaTypeMask = 0x3fff; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
    private const ushort NlaFNested = 0x8000;
    private const ushort InetDiagReqSkBpfStorages = 2; // request attribute (linux/inet_diag.h)
    private const ushort InetDiagSkBpfStorages = 20;   // reply attribute
    private const ushort SkDiagBpfStorageReqMapFd = 1; // linux/sock_diag.h
    private const ushort SkDiagBpfStorage = 1;
    private const ushort SkDiagBpfStorageMapId = 2;
    private const ushort SkDiagBpfStorageMapValue = 3;

    private readonly NetlinkSocket _socket;
    private uint _sequence;

    private SockDiagSocket(NetlinkSocket socket) => _socket = socket;

    /// <summary>Opens a sock_diag socket in the calling thread's network namespace.</summary>
    public static SockDiagSocket Open() => new(NetlinkSocket.Open(NetlinkSockDiag, "NETLINK_SOCK_DIAG"));

    /// <summary>
    /// The <paramref name="family"/> (AF_INET, AF_INET6) sockets of <paramref name="protocol"/> whose state bit is set in
    /// <paramref name="stateMask"/> (1 &lt;&lt; state). With <paramref name="storageMaps"/> (BPF_MAP_TYPE_SK_STORAGE maps;
    /// needs CAP_BPF or CAP_SYS_ADMIN) each socket also carries its value in each of them
    /// (<see cref="InetDiagSocket.StorageValues"/>, in the same order), the only way user space reads socket storage
    /// without a socket fd. The kernel reports storage for TCP only: inet_sk_diag_fill() returns before it for sockets
    /// without a connection sock (UDP), so a UDP socket's values are always null here.
    /// </summary>
    public List<InetDiagSocket> Dump(byte family, byte protocol, uint stateMask, IReadOnlyList<BpfMapHandle>? storageMaps = null)
    {
        storageMaps ??= [];
        if (family is not (AfInet or AfInet6))
            throw new ArgumentOutOfRangeException(nameof(family), family, "inet_diag dumps AF_INET (2) or AF_INET6 (10)");
        var storageMapIds = new uint[storageMaps.Count];
        for (int i = 0; i < storageMaps.Count; i++)
            storageMapIds[i] = storageMaps[i].Info.Id;
        _socket.Send(DumpRequest(new InetDiagRequest { Family = family, Protocol = protocol, States = stateMask }, storageMaps));
        // The kernel resolves the map fds while handling the request, i.e. during send.
        GC.KeepAlive(storageMaps);

        var sockets = new List<InetDiagSocket>();
        var buffer = new byte[32 * 1024];
        while (true)
        {
            int received = Receive(buffer);
            int offset = 0;
            while (offset + Unsafe.SizeOf<NetlinkHeader>() <= received)
            {
                var header = MemoryMarshal.Read<NetlinkHeader>(buffer.AsSpan(offset));
                if (header.Length < Unsafe.SizeOf<NetlinkHeader>() || offset + header.Length > received)
                    throw new BpfException("recv", (int)Errno.EIO, "netlink", "NETLINK_SOCK_DIAG", "truncated inet_diag reply");
                var payload = buffer.AsSpan(offset + Unsafe.SizeOf<NetlinkHeader>(), (int)header.Length - Unsafe.SizeOf<NetlinkHeader>());
                switch (header.Type)
                {
                    case NetlinkHeader.NlmsgDone:
                        return sockets;
                    case NetlinkHeader.NlmsgError:
                        int error = MemoryMarshal.Read<int>(payload);
                        if (error != 0)
                            throw new BpfException("SOCK_DIAG_BY_FAMILY", -error, "protocol", protocol.ToString(), $"inet_diag dump of family {family}");
                        break;
                    case SockDiagByFamily when payload.Length >= Unsafe.SizeOf<InetDiagMessage>():
                        var message = MemoryMarshal.Read<InetDiagMessage>(payload);
                        var id = message.Id;
                        var attributes = payload[Unsafe.SizeOf<InetDiagMessage>()..];
                        var values = new byte[]?[storageMapIds.Length];
                        for (int i = 0; i < values.Length; i++)
                            values[i] = FindStorageValue(attributes, storageMapIds[i]);
                        sockets.Add(new InetDiagSocket(message.Family, protocol, message.State,
                            new InetDiagAddress(id.Source0, id.Source1, id.Source2, id.Source3), id.SourcePort,
                            new InetDiagAddress(id.Destination0, id.Destination1, id.Destination2, id.Destination3), id.DestinationPort,
                            id.Interface, id.Cookie0 | ((ulong)id.Cookie1 << 32))
                        {
                            StorageValues = values,
                            Inode = message.Inode,
                        });
                        break;
                }
                offset += (int)((header.Length + 3) & ~3u);
            }
        }
    }

    // nlmsghdr + inet_diag_req_v2, then, when maps are asked for, INET_DIAG_REQ_SK_BPF_STORAGES nesting one
    // SK_DIAG_BPF_STORAGE_REQ_MAP_FD per map (the kernel reads every one of them).
    private byte[] DumpRequest(InetDiagRequest body, IReadOnlyList<BpfMapHandle> storageMaps)
    {
        int headerSize = Unsafe.SizeOf<NetlinkHeader>(), bodySize = Unsafe.SizeOf<InetDiagRequest>(), attributeSize = Unsafe.SizeOf<NetlinkAttribute>();
        int mapFdAttributeSize = attributeSize + sizeof(uint);
        int storagesSize = storageMaps.Count == 0 ? 0 : attributeSize + storageMaps.Count * mapFdAttributeSize;
        var request = new byte[headerSize + bodySize + storagesSize];
        var header = new NetlinkHeader
        {
            Length = (uint)request.Length, Type = SockDiagByFamily, Flags = NetlinkHeader.NlmFRequest | NetlinkHeader.NlmFDump, Sequence = ++_sequence,
        };
        MemoryMarshal.Write(request, in header);
        MemoryMarshal.Write(request.AsSpan(headerSize), in body);
        if (storageMaps.Count == 0)
            return request;
        int offset = headerSize + bodySize;
        var storages = new NetlinkAttribute { Length = (ushort)storagesSize, Type = InetDiagReqSkBpfStorages | NlaFNested };
        MemoryMarshal.Write(request.AsSpan(offset), in storages);
        offset += attributeSize;
        foreach (BpfMapHandle map in storageMaps)
        {
            var mapFdAttribute = new NetlinkAttribute { Length = (ushort)mapFdAttributeSize, Type = SkDiagBpfStorageReqMapFd };
            MemoryMarshal.Write(request.AsSpan(offset), in mapFdAttribute);
            uint fd = (uint)map.Fd;
            MemoryMarshal.Write(request.AsSpan(offset + attributeSize), in fd);
            offset += mapFdAttributeSize;
        }
        return request;
    }

    /// <summary>
    /// Closes <paramref name="socket"/> (SOCK_DESTROY): a TCP peer gets a reset, the application sees ECONNABORTED.
    /// Returns 0 or the errno: EOPNOTSUPP without CONFIG_INET_DIAG_DESTROY, ENOENT when the socket is already gone.
    /// </summary>
    public unsafe int Destroy(in InetDiagSocket socket)
    {
        var request = new Request
        {
            Header = new NetlinkHeader { Length = (uint)sizeof(Request), Type = SockDestroy, Flags = NetlinkHeader.NlmFRequest | NetlinkHeader.NlmFAck, Sequence = ++_sequence },
            Body = new InetDiagRequest
            {
                Family = socket.Family,
                Protocol = socket.Protocol,
                States = uint.MaxValue,
                Id = new InetDiagSocketId
                {
                    SourcePort = socket.SourcePortBe,
                    DestinationPort = socket.DestinationPortBe,
                    Source0 = socket.Source.Word0,
                    Source1 = socket.Source.Word1,
                    Source2 = socket.Source.Word2,
                    Source3 = socket.Source.Word3,
                    Destination0 = socket.Destination.Word0,
                    Destination1 = socket.Destination.Word1,
                    Destination2 = socket.Destination.Word2,
                    Destination3 = socket.Destination.Word3,
                    Interface = socket.Interface,
                    Cookie0 = (uint)socket.Cookie,
                    Cookie1 = (uint)(socket.Cookie >> 32),
                },
            },
        };
        _socket.Send(request);
        var buffer = new byte[4096];
        while (true)
        {
            int received = Receive(buffer);
            if (received < sizeof(NetlinkHeader) + sizeof(int))
                continue;
            var header = MemoryMarshal.Read<NetlinkHeader>(buffer);
            if (header.Type != NetlinkHeader.NlmsgError || header.Sequence != request.Header.Sequence)
                continue;
            return -MemoryMarshal.Read<int>(buffer.AsSpan(sizeof(NetlinkHeader)));
        }
    }

    /// <summary>
    /// The value of map <paramref name="mapId"/> in a reply's INET_DIAG_SK_BPF_STORAGES attribute
    /// (nested SK_DIAG_BPF_STORAGE { SK_DIAG_BPF_STORAGE_MAP_ID, SK_DIAG_BPF_STORAGE_MAP_VALUE }), null when the socket
    /// has none. Internal for the parser's unit test.
    /// </summary>
    internal static byte[]? FindStorageValue(ReadOnlySpan<byte> attributes, uint mapId)
    {
        foreach (var (type, storages) in Attributes(attributes))
        {
            if (type != InetDiagSkBpfStorages)
                continue;
            foreach (var (storageType, storage) in Attributes(storages))
            {
                if (storageType != SkDiagBpfStorage)
                    continue;
                uint? id = null;
                byte[]? value = null;
                foreach (var (fieldType, field) in Attributes(storage))
                {
                    if (fieldType == SkDiagBpfStorageMapId && field.Length >= sizeof(uint))
                        id = MemoryMarshal.Read<uint>(field);
                    else if (fieldType == SkDiagBpfStorageMapValue)
                        value = field.ToArray();
                }
                if (id == mapId && value is not null)
                    return value;
            }
        }
        return null;
    }

    // The netlink attributes in a span (struct nlattr: u16 length with header, u16 type; padded to 4 bytes).
    private static List<(ushort Type, byte[] Payload)> Attributes(ReadOnlySpan<byte> span)
    {
        const int headerSize = 4;
        var attributes = new List<(ushort, byte[])>();
        int offset = 0;
        while (offset + headerSize <= span.Length)
        {
            var attribute = MemoryMarshal.Read<NetlinkAttribute>(span[offset..]);
            if (attribute.Length < headerSize || offset + attribute.Length > span.Length)
                break; // malformed tail: keep what parsed
            attributes.Add(((ushort)(attribute.Type & NlaTypeMask), span.Slice(offset + headerSize, attribute.Length - headerSize).ToArray()));
            offset += (attribute.Length + 3) & ~3;
        }
        return attributes;
    }

    /// <summary>Closes the netlink socket.</summary>
    public void Dispose() => _socket.Dispose();

    // A blocking socket: a receive returns a datagram or fails, never times out.
    private int Receive(byte[] buffer) =>
        _socket.Receive(buffer) ?? throw new BpfException("recv", (int)Errno.EAGAIN, "netlink", "NETLINK_SOCK_DIAG");

    // struct inet_diag_sockid, 48 bytes; an IPv4 socket uses the first word of each address.
    [StructLayout(LayoutKind.Sequential)]
    private struct InetDiagSocketId
    {
        public ushort SourcePort;
        public ushort DestinationPort;
        public uint Source0, Source1, Source2, Source3;
        public uint Destination0, Destination1, Destination2, Destination3;
        public uint Interface;
        public uint Cookie0, Cookie1;
    }

    // struct inet_diag_req_v2, 56 bytes.
    [StructLayout(LayoutKind.Sequential)]
    private struct InetDiagRequest
    {
        public byte Family;
        public byte Protocol;
        public byte Extensions;
        public byte Pad;
        public uint States;
        public InetDiagSocketId Id;
    }

    // struct inet_diag_msg, 72 bytes.
    [StructLayout(LayoutKind.Sequential)]
    private struct InetDiagMessage
    {
        public byte Family;
        public byte State;
        public byte Timer;
        public byte Retransmits;
        public InetDiagSocketId Id;
        public uint Expires, ReceiveQueue, WriteQueue, Uid, Inode;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Request
    {
        public NetlinkHeader Header;
        public InetDiagRequest Body;
    }

    // struct nlattr, 4 bytes.
    [StructLayout(LayoutKind.Sequential)]
    private struct NetlinkAttribute
    {
        public ushort Length;
        public ushort Type;
    }
}
