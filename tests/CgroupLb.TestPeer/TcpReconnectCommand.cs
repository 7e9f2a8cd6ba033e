using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>tcp-reconnect --to IP:PORT [--attempts N] [--timeout-ms T]</c>: one IPv4 TCP socket, connect()ed again after each
/// ECONNREFUSED (Linux allows it; portable code opens a new socket), up to N times. One JSON line: how many connects it
/// took, how many were refused, and the backend's name, or the last errno. Raw libc calls, because .NET's
/// <see cref="Socket"/> does not promise that a failed connect leaves the same descriptor to retry on.
/// </summary>
public static partial class TcpReconnectCommand
{
    private const int AfInet = 2;
    private const int SockStream = 1;
    private const int SolSocket = 1;
    private const int SoSndtimeo = 21;
    private const int ECONNREFUSED = 111;

    public static int Run(PeerArguments args)
    {
        args.RejectUnknown("--to", "--attempts", "--timeout-ms");
        IPEndPoint to = args.EndPoint("--to");
        if (to.AddressFamily != AddressFamily.InterNetwork)
            throw new PeerUsageException("tcp-reconnect takes an IPv4 --to");
        int attempts = args.PositiveInt("--attempts", 20);
        int timeoutMs = args.PositiveInt("--timeout-ms", 2000);
        using var writer = new AttemptWriter();

        int fd = Socket(AfInet, SockStream, 0);
        if (fd < 0)
            return Report(writer, 0, 0, null, Marshal.GetLastPInvokeError());
        try
        {
            // connect() on a blocking socket honours the send timeout.
            Span<long> timeval = [timeoutMs / 1000, timeoutMs % 1000 * 1000];
            SetSockOpt(fd, SolSocket, SoSndtimeo, MemoryMarshal.AsBytes(timeval), 16);
            Span<byte> sockaddr = stackalloc byte[16];
            BitConverter.TryWriteBytes(sockaddr[..2], (ushort)AfInet);
            BinaryPrimitives.WriteUInt16BigEndian(sockaddr[2..4], (ushort)to.Port);
            to.Address.TryWriteBytes(sockaddr[4..8], out _);

            int refused = 0;
            for (int i = 1; i <= attempts; i++)
            {
                if (Connect(fd, sockaddr, sockaddr.Length) == 0)
                    return Report(writer, i, refused, ReadName(fd), null);
                int errno = Marshal.GetLastPInvokeError();
                if (errno != ECONNREFUSED)
                    return Report(writer, i, refused, null, errno);
                refused++;
            }
            return Report(writer, attempts, refused, null, ECONNREFUSED);
        }
        finally
        {
            Close(fd);
        }
    }

    private static int Report(AttemptWriter writer, int connects, int refused, string? backend, int? errno)
    {
        writer.Write(json =>
        {
            json.WriteBoolean("ok", backend is not null);
            json.WriteNumber("connects", connects);
            json.WriteNumber("refused", refused);
            if (backend is not null) json.WriteString("backend", backend);
            if (errno is int n)
            {
                json.WriteString("error", Errno.NameOf(n));
                json.WriteNumber("errno", n);
            }
        });
        return backend is null ? 1 : 0;
    }

    /// <summary>Backends write their name and close.</summary>
    private static string ReadName(int fd)
    {
        var buffer = new byte[256];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = Read(fd, buffer.AsSpan(filled), buffer.Length - filled);
            if (n <= 0)
                break;
            filled += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, filled).TrimEnd('\n');
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int Connect(int fd, ReadOnlySpan<byte> address, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, ReadOnlySpan<byte> value, int length);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial int Read(int fd, Span<byte> buffer, int count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
