using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CgroupLb.TestPeer;

/// <summary>
/// Answers every datagram with "NAME" from the receiving socket, so the reply's source is this backend's own address
/// and port, which the client's recvmsg4 hook must rewrite back to the service address.
/// </summary>
public sealed class UdpNameServer(string name, ushort port) : IDisposable
{
    private readonly byte[] _answer = Encoding.UTF8.GetBytes(name);
    // Dual-stack: one socket answers IPv4 (as ::ffff:a.b.c.d) and IPv6 clients.
    private readonly Socket _socket = new(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };

    public void Start() => _socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult request = await _socket.ReceiveFromAsync(
                buffer, SocketFlags.None, new IPEndPoint(IPAddress.IPv6Any, 0), cancellationToken);
            try
            {
                await _socket.SendToAsync(_answer, SocketFlags.None, request.RemoteEndPoint, cancellationToken);
            }
            catch (SocketException)
            {
                // The sender is unreachable from here; a lost reply is what the client's timeout reports.
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
