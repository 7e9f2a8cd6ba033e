using System.Net;
using System.Net.Sockets;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>udp-sendto --to IP:PORT [--count N] [--timeout-ms T]</c>: per attempt a fresh unconnected socket sends one
/// datagram with sendto() and waits for the reply; "from" is the reply's source as recvfrom() reports it, which the
/// recvmsg4 hook must turn back into the address the client sent to.
/// </summary>
public static class UdpSendToCommand
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
            string stage = "sendto";
            try
            {
                await socket.SendToAsync(UdpExchange.Request, SocketFlags.None, to, deadline.Token);
                IPEndPoint local = KernelSocketAddress.Local(socket);
                stage = "recvfrom";
                (string name, IPEndPoint from) = await UdpExchange.ReceiveReplyAsync(socket, deadline.Token);
                output.Success(name, peer: null, local, from);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                output.Failure(stage, e);
            }
        }
        return 0;
    }
}
