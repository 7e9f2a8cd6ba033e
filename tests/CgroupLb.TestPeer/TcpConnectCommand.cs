using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>tcp-connect --to IP:PORT [--count N] [--timeout-ms T]</c>: N independent connects, one JSON line each with the
/// backend's name, the kernel's getpeername() and getsockname(), or the errno the connect failed with.
/// </summary>
public static class TcpConnectCommand
{
    public static Task<int> RunAsync(PeerArguments args) =>
        AttemptLoop.RunAsync(args, SocketType.Stream, "connect", async (socket, to, stage, ct) =>
        {
            await socket.ConnectAsync(to, ct);
            stage.Name = "getpeername";
            IPEndPoint peer = KernelSocketAddress.Peer(socket);
            IPEndPoint local = KernelSocketAddress.Local(socket);
            stage.Name = "read";
            return new AttemptOutcome(await ReadNameAsync(socket, ct), peer, local, From: null);
        });

    /// <summary>Backends write their name and close; everything up to EOF, minus the newline, is the name.</summary>
    public static async Task<string> ReadNameAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (n == 0)
                break;
            filled += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, filled).TrimEnd('\n');
    }
}
