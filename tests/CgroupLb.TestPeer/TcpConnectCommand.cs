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
    public static async Task<int> RunAsync(PeerArguments args)
    {
        args.RejectUnknown("--to", "--count", "--timeout-ms");
        IPEndPoint to = args.EndPoint("--to");
        int count = args.PositiveInt("--count", 1);
        var timeout = TimeSpan.FromMilliseconds(args.PositiveInt("--timeout-ms", 2000));

        using var output = new AttemptWriter();
        for (int i = 0; i < count; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            using var deadline = new CancellationTokenSource(timeout);
            string stage = "connect";
            try
            {
                await socket.ConnectAsync(to, deadline.Token);
                stage = "getpeername";
                IPEndPoint peer = KernelSocketAddress.Peer(socket);
                IPEndPoint local = KernelSocketAddress.Local(socket);
                stage = "read";
                string name = await ReadNameAsync(socket, deadline.Token);
                output.Success(name, peer, local, from: null);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                output.Failure(stage, e);
            }
        }
        return 0;
    }

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
