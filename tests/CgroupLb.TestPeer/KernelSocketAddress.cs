using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CgroupLb.TestPeer;

/// <summary>
/// getpeername()/getsockname() straight from the kernel. <see cref="Socket.RemoteEndPoint"/> returns the endpoint
/// passed to Connect (it is cached), which would make a "getpeername returns the VIP" test pass without asking the
/// kernel, where the getpeername4 hook actually runs.
/// </summary>
public static partial class KernelSocketAddress
{
    private const int AfInet = 2;
    private const int AfInet6 = 10;
    private const int SockaddrStorageSize = 128;
    private const int ENotConn = 107;

    public static IPEndPoint Peer(Socket socket) => Query(socket, peer: true);

    public static IPEndPoint Local(Socket socket) => Query(socket, peer: false);

    private static unsafe IPEndPoint Query(Socket socket, bool peer)
    {
        byte* buffer = stackalloc byte[SockaddrStorageSize];
        uint length = SockaddrStorageSize;
        bool added = false;
        try
        {
            socket.SafeHandle.DangerousAddRef(ref added);
            nint fd = socket.SafeHandle.DangerousGetHandle();
            int rc = peer ? GetPeerName(fd, buffer, ref length) : GetSockName(fd, buffer, ref length);
            if (rc != 0)
            {
                // SocketException(int) takes a SocketError; Errno maps it back to the errno for the report.
                int errno = Marshal.GetLastPInvokeError();
                throw new SocketException((int)(errno == ENotConn ? SocketError.NotConnected : SocketError.SocketError));
            }
        }
        finally
        {
            if (added)
                socket.SafeHandle.DangerousRelease();
        }
        return Decode(new ReadOnlySpan<byte>(buffer, (int)length));
    }

    private static IPEndPoint Decode(ReadOnlySpan<byte> sockaddr)
    {
        // struct sockaddr_in{,6}: sa_family in host order, then the port in network order.
        int family = BitConverter.ToUInt16(sockaddr[..2]);
        int port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..4]);
        return family switch
        {
            AfInet => new IPEndPoint(new IPAddress(sockaddr[4..8]), port),
            AfInet6 => new IPEndPoint(new IPAddress(sockaddr[8..24]), port),
            _ => throw new InvalidOperationException($"kernel returned address family {family}, expected AF_INET or AF_INET6"),
        };
    }

    [LibraryImport("libc", EntryPoint = "getpeername", SetLastError = true)]
    private static unsafe partial int GetPeerName(nint fd, byte* address, ref uint length);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    private static unsafe partial int GetSockName(nint fd, byte* address, ref uint length);
}
