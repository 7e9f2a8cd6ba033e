using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>udp-hold|tcp-hold --to IP:PORT --duration-ms D [--interval-ms I] [--timeout-ms T] [--events-file E] [--stop-file S]</c>:
/// one long-lived socket, as a DNS client or a pooled connection holds it, watched until the file S exists, at most D
/// milliseconds. Each event line also goes to the file E as it happens, so a test can wait for what it needs to see
/// (the first reply, the error after a close) however slowly the client runs (an emulated guest takes seconds to
/// start one), instead of sleeping for a guess. One line per event, t being
/// CLOCK_MONOTONIC nanoseconds (what <see cref="Stopwatch"/> reads in the test):
/// {"t","event":"connected","peer"}, {"t","event":"reply","backend"} and {"t","event":"error","error"}.
/// udp-hold exchanges a datagram every I ms on the connected socket; after a socket error (the socket was closed
/// under it) it connect()s the same socket again, so the next reply shows where it was balanced to. tcp-hold reads
/// the backend's name once, then polls SO_ERROR every I ms (the backend has closed its end; the connection stays
/// in CLOSE_WAIT until someone aborts it). udp-sendto-hold never connects: it sendto()s every datagram on one
/// unconnected socket (sendmsg4 per datagram, the socket's reused translation) and reports a reply whose source is not
/// --to as the error "FROM addr:port".
/// </summary>
public static class HoldCommand
{
    public static async Task<int> RunAsync(PeerArguments args, SocketType type, bool connect = true)
    {
        args.RejectUnknown("--to", "--duration-ms", "--interval-ms", "--timeout-ms", "--events-file", "--stop-file");
        IPEndPoint to = args.EndPoint("--to");
        var duration = TimeSpan.FromMilliseconds(args.PositiveInt("--duration-ms", 3000));
        var interval = TimeSpan.FromMilliseconds(args.PositiveInt("--interval-ms", 50));
        var timeout = TimeSpan.FromMilliseconds(args.PositiveInt("--timeout-ms", 300));
        string? stopFile = args.Optional("--stop-file");
        using var writer = new AttemptWriter(args.Optional("--events-file"));
        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        using var socket = new Socket(to.AddressFamily, type, type == SocketType.Dgram ? ProtocolType.Udp : ProtocolType.Tcp);
        // Dual-stack, as AttemptLoop opens it: --to [::ffff:a.b.c.d]:p holds an IPv4 peer on an AF_INET6 socket.
        if (to.AddressFamily == AddressFamily.InterNetworkV6)
            socket.DualMode = true;

        if (!connect)
        {
            while (Stopwatch.GetTimestamp() < end && (stopFile is null || !File.Exists(stopFile)))
            {
                await Task.Delay(interval);
                await SendToAsync(socket, to, timeout, writer);
            }
            return 0;
        }
        try
        {
            await ConnectAsync(socket, to, writer);
            if (type == SocketType.Stream)
                await ReadNameAsync(socket, timeout, writer);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // Closed under the client before it read anything (a slow machine): an event the test can judge, not a crash.
            Event(writer, "error", "error", AttemptWriter.Describe(e).Error);
        }
        while (Stopwatch.GetTimestamp() < end && (stopFile is null || !File.Exists(stopFile)))
        {
            await Task.Delay(interval);
            if (type == SocketType.Dgram)
                await ExchangeAsync(socket, to, timeout, writer);
            else if (socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error) is int error and not 0)
                Event(writer, "error", "error", Errno.NameOf(Errno.NumberOf((SocketError)error)));
        }
        return 0;
    }

    private static async Task ExchangeAsync(Socket socket, IPEndPoint to, TimeSpan timeout, AttemptWriter writer)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await socket.SendAsync(UdpExchange.Request, SocketFlags.None, deadline.Token);
            (string name, _) = await UdpExchange.ReceiveReplyAsync(socket, deadline.Token);
            Event(writer, "reply", "backend", name);
        }
        catch (OperationCanceledException)
        {
            Event(writer, "error", "error", "TIMEOUT");
        }
        catch (SocketException e)
        {
            Event(writer, "error", "error", AttemptWriter.Describe(e).Error);
            await ConnectAsync(socket, to, writer);
        }
    }

    private static async Task SendToAsync(Socket socket, IPEndPoint to, TimeSpan timeout, AttemptWriter writer)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await socket.SendToAsync(UdpExchange.Request, SocketFlags.None, to, deadline.Token);
            (string name, IPEndPoint from) = await UdpExchange.ReceiveReplyAsync(socket, deadline.Token);
            if (from.Equals(to))
                Event(writer, "reply", "backend", name);
            else
                Event(writer, "error", "error", $"FROM {from}");
        }
        catch (OperationCanceledException)
        {
            Event(writer, "error", "error", "TIMEOUT");
        }
        catch (SocketException e)
        {
            Event(writer, "error", "error", AttemptWriter.Describe(e).Error);
        }
    }

    private static async Task ConnectAsync(Socket socket, IPEndPoint to, AttemptWriter writer)
    {
        await socket.ConnectAsync(to);
        Event(writer, "connected", "peer", KernelSocketAddress.Peer(socket).ToString());
    }

    private static async Task ReadNameAsync(Socket socket, TimeSpan timeout, AttemptWriter writer)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var buffer = new byte[256];
        int n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        Event(writer, "reply", "backend", Encoding.UTF8.GetString(buffer, 0, n).TrimEnd('\n'));
    }

    private static void Event(AttemptWriter writer, string kind, string key, string value) =>
        writer.Write(json =>
        {
            json.WriteNumber("t", Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency));
            json.WriteString("event", kind);
            json.WriteString(key, value);
        });
}
