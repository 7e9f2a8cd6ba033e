using System.Net;
using System.Net.Sockets;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>udp-connected --to IP:PORT [--count N] [--timeout-ms T]</c>: per attempt a fresh socket is connect()ed, so the
/// connect4 hook picks the backend once; "peer" is the kernel's getpeername(), "from" the reply's source.
/// </summary>
public static class UdpConnectedCommand
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
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            using var deadline = new CancellationTokenSource(timeout);
            string stage = "connect";
            try
            {
                await socket.ConnectAsync(to, deadline.Token);
                stage = "getpeername";
                IPEndPoint peer = KernelSocketAddress.Peer(socket);
                IPEndPoint local = KernelSocketAddress.Local(socket);
                stage = "send";
                await socket.SendAsync(UdpExchange.Request, SocketFlags.None, deadline.Token);
                stage = "recvfrom";
                (string name, IPEndPoint from) = await UdpExchange.ReceiveReplyAsync(socket, deadline.Token);
                output.Success(name, peer, local, from);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                output.Failure(stage, e);
            }
        }
        return 0;
    }
}
