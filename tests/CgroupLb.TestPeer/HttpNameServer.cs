using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CgroupLb.TestPeer;

/// <summary>
/// A minimal HTTP/1.1 responder: reads the request head, answers 200 with body "NAME\n" and closes. Enough for curl
/// in the demo; deliberately not a web server (no keep-alive, no request body).
/// </summary>
public sealed class HttpNameServer(string name, ushort port) : IDisposable
{
    private const int MaxRequestHead = 16 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly byte[] _response = BuildResponse(name);
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public void Start()
    {
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.Any, port));
        _listener.Listen(1024);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket connection = await _listener.AcceptAsync(cancellationToken);
            _ = AnswerAsync(connection, cancellationToken);
        }
    }

    private async Task AnswerAsync(Socket connection, CancellationToken cancellationToken)
    {
        using (connection)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(RequestTimeout);
            try
            {
                if (await ReadRequestHeadAsync(connection, deadline.Token))
                    await connection.SendAsync(_response, SocketFlags.None, deadline.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // A client that resets or stalls gets no answer.
            }
        }
    }

    /// <summary>True once the blank line ending the request head arrived; false on EOF or an oversized head.</summary>
    private static async Task<bool> ReadRequestHeadAsync(Socket connection, CancellationToken cancellationToken)
    {
        var head = new byte[MaxRequestHead];
        int filled = 0;
        while (filled < head.Length)
        {
            int n = await connection.ReceiveAsync(head.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (n == 0)
                return false;
            filled += n;
            if (head.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) >= 0)
                return true;
        }
        return false;
    }

    private static byte[] BuildResponse(string name)
    {
        string body = name + "\n";
        return Encoding.UTF8.GetBytes(
            "HTTP/1.1 200 OK\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" +
            "Connection: close\r\n" +
            "\r\n" +
            body);
    }

    public void Dispose() => _listener.Dispose();
}
