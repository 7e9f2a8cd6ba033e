using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// A raw netlink socket of one protocol, the part <see cref="SockDiagSocket"/> and <see cref="RtnetlinkAddressSocket"/>
/// share: open and bind (with multicast groups), send one request, receive one datagram, each retried on EINTR and each
/// failure a <see cref="BpfException"/> naming the protocol. Like every socket it belongs to the network namespace its
/// creating thread was in. Owned by the class that opened it.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    private readonly SafeFileDescriptorHandle _fd;
    private readonly string _protocolName;

    private NetlinkSocket(SafeFileDescriptorHandle fd, string protocolName)
    {
        _fd = fd;
        _protocolName = protocolName;
    }

    /// <param name="protocol">NETLINK_ROUTE (0), NETLINK_SOCK_DIAG (4), ...</param>
    /// <param name="protocolName">How errors name the socket, e.g. "NETLINK_ROUTE".</param>
    /// <param name="groups">Multicast groups to join (RTMGRP_* bits); 0 for none.</param>
    /// <param name="receiveTimeout">Bounds each <see cref="Receive"/> (which then answers null); null waits forever.</param>
    public static unsafe NetlinkSocket Open(int protocol, string protocolName, uint groups = 0, TimeSpan? receiveTimeout = null)
    {
        int raw = Interop.Libc.Socket(Interop.Libc.AF_NETLINK, Interop.Libc.SOCK_RAW | Interop.Libc.SOCK_CLOEXEC, protocol);
        if (raw < 0)
            throw new BpfException("socket", Marshal.GetLastPInvokeError(), "netlink", protocolName);
        var fd = new SafeFileDescriptorHandle(raw);
        try
        {
            if (groups != 0)
            {
                var address = new SockaddrNl { Family = Interop.Libc.AF_NETLINK, Groups = groups };
                if (Interop.Libc.Bind(raw, &address, (uint)sizeof(SockaddrNl)) < 0)
                    throw new BpfException("bind", Marshal.GetLastPInvokeError(), "netlink", protocolName);
            }
            if (receiveTimeout is { } bound)
            {
                long micros = (long)bound.TotalMicroseconds;
                var timeout = new Timeval { Seconds = micros / 1_000_000, Microseconds = micros % 1_000_000 };
                if (Interop.Libc.SetSockOpt(raw, Interop.Libc.SOL_SOCKET, Interop.Libc.SO_RCVTIMEO, &timeout, (uint)sizeof(Timeval)) < 0)
                    throw new BpfException("setsockopt", Marshal.GetLastPInvokeError(), "netlink", "SO_RCVTIMEO");
            }
            return new NetlinkSocket(fd, protocolName);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Sends one request (one or more netlink messages).</summary>
    public unsafe void Send(ReadOnlySpan<byte> request)
    {
        using var lease = new SafeHandleLease(_fd);
        fixed (byte* p = request)
        {
            while (Interop.Libc.Send(lease.Fd, p, (nuint)request.Length, 0) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != (int)Errno.EINTR)
                    throw new BpfException("send", errno, "netlink", _protocolName);
            }
        }
    }

    /// <summary>Sends one request held in a struct.</summary>
    public void Send<T>(in T request) where T : unmanaged => Send(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in request)));

    /// <summary>Reads one datagram into <paramref name="buffer"/>: its length, or null when the receive timeout passed.</summary>
    public unsafe int? Receive(Span<byte> buffer)
    {
        using var lease = new SafeHandleLease(_fd);
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
                n = Interop.Libc.Recv(lease.Fd, p, (nuint)buffer.Length, 0);
            if (n >= 0)
                return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == (int)Errno.EAGAIN)
                return null;
            if (errno != (int)Errno.EINTR)
                throw new BpfException("recv", errno, "netlink", _protocolName);
        }
    }

    public void Dispose() => _fd.Dispose();

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timeval
    {
        public long Seconds;
        public long Microseconds;
    }
}
