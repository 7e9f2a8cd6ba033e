using System.Net;
using System.Net.Sockets;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>udp-alternate --to IP:PORT --also IP:PORT [--count N] [--timeout-ms T]</c>: ONE unconnected socket sends N
/// datagrams, alternating between the two destinations, and reads each reply. A socket reaching a second backend is
/// the case where socket storage (one entry per socket) cannot hold every reverse entry, so each reply's "from" must
/// still be the frontend that datagram was sent to.
/// </summary>
public static class UdpAlternateCommand
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        args.RejectUnknown("--to", "--also", "--count", "--timeout-ms");
        IPEndPoint[] targets = [args.EndPoint("--to"), args.EndPoint("--also")];
        int count = args.PositiveInt("--count", 2);
        var timeout = TimeSpan.FromMilliseconds(args.PositiveInt("--timeout-ms", 2000));

        using var output = new AttemptWriter();
        using var socket = new Socket(targets[0].AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        for (int i = 0; i < count; i++)
        {
            using var deadline = new CancellationTokenSource(timeout);
            string stage = "sendto";
            try
            {
                await socket.SendToAsync(UdpExchange.Request, SocketFlags.None, targets[i % 2], deadline.Token);
                stage = "recvfrom";
                (string name, IPEndPoint from) = await UdpExchange.ReceiveReplyAsync(socket, deadline.Token);
                output.Success(name, peer: null, KernelSocketAddress.Local(socket), from);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                output.Failure(stage, e);
            }
        }
        return 0;
    }
}
