using System.Net;
using System.Net.Sockets;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>udp-connected --to IP:PORT [--count N] [--timeout-ms T]</c>: per attempt a fresh socket is connect()ed, so the
/// connect4 hook picks the backend once; "peer" is the kernel's getpeername(), "from" the reply's source.
/// </summary>
public static class UdpConnectedCommand
{
    public static Task<int> RunAsync(PeerArguments args) =>
        AttemptLoop.RunAsync(args, SocketType.Dgram, "connect", async (socket, to, stage, ct) =>
        {
            await socket.ConnectAsync(to, ct);
            stage.Name = "getpeername";
            IPEndPoint peer = KernelSocketAddress.Peer(socket);
            IPEndPoint local = KernelSocketAddress.Local(socket);
            stage.Name = "send";
            await socket.SendAsync(UdpExchange.Request, SocketFlags.None, ct);
            stage.Name = "recvfrom";
            (string name, IPEndPoint from) = await UdpExchange.ReceiveReplyAsync(socket, ct);
            return new AttemptOutcome(name, peer, local, from);
        });
}
