using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CgroupLb.TestPeer;

/// <summary>The datagram a client sends and how it reads the backend's one-datagram answer.</summary>
public static class UdpExchange
{
    public static readonly ReadOnlyMemory<byte> Request = "who?"u8.ToArray();

    public static async Task<(string Name, IPEndPoint From)> ReceiveReplyAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[512];
        SocketReceiveFromResult result = await socket.ReceiveFromAsync(
            buffer, SocketFlags.None, new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0), cancellationToken);
        return (Encoding.UTF8.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
    }
}
