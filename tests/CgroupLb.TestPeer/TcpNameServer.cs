using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CgroupLb.TestPeer;

/// <summary>Answers every TCP connection with "NAME\n" and closes it, so a client learns which backend it reached.</summary>
public sealed class TcpNameServer(string name, ushort port) : IDisposable
{
    private readonly byte[] _answer = Encoding.UTF8.GetBytes(name + "\n");
    // Dual-stack: one listener answers IPv4 and IPv6 clients.
    private readonly Socket _listener = new(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };

    /// <summary>Binds and listens; failures surface here, before the peer reports ready.</summary>
    public void Start()
    {
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        _listener.Listen(4096);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket connection = await _listener.AcceptAsync(cancellationToken);
            try
            {
                // The answer fits the socket buffer, so this never blocks the accept loop. The server closes first,
                // which leaves TIME_WAIT here and not on the client, whose ephemeral ports a churn test cycles fast.
                connection.Send(_answer);
            }
            catch (SocketException)
            {
                // The client gave up (reset); nothing to answer.
            }
            finally
            {
                connection.Dispose();
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
