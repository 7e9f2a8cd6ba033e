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
    public static Task<int> RunAsync(PeerArguments args) =>
        AttemptLoop.RunAsync(args, SocketType.Dgram, "sendto", async (socket, to, stage, ct) =>
        {
            await socket.SendToAsync(UdpExchange.Request, SocketFlags.None, to, ct);
            IPEndPoint local = KernelSocketAddress.Local(socket);
            stage.Name = "recvfrom";
            (string name, IPEndPoint from) = await UdpExchange.ReceiveReplyAsync(socket, ct);
            return new AttemptOutcome(name, Peer: null, local, from);
        });
}
