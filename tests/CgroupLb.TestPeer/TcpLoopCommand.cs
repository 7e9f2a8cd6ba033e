using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>tcp-loop --to IP:PORT --duration-ms D [--timeout-ms T] [--trace]</c>: connects back to back for D milliseconds
/// and ends with one summary line {"summary":true,"attempts","failures","byBackend":{name:n},"errors":{name:n}}.
/// With --trace, each attempt first gets a line {"s","e","backend"|"error"}: s and e are CLOCK_MONOTONIC nanoseconds
/// taken before connect() and after the answer, the same clock <see cref="Stopwatch"/> reads in the test process, so
/// a test can tell which backend sets were live while the attempt ran.
/// </summary>
public static class TcpLoopCommand
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        args.RejectUnknown("--to", "--duration-ms", "--timeout-ms", "--trace");
        IPEndPoint to = args.EndPoint("--to");
        var duration = TimeSpan.FromMilliseconds(args.PositiveInt("--duration-ms", 1000));
        var timeout = TimeSpan.FromMilliseconds(args.PositiveInt("--timeout-ms", 2000));
        bool trace = args.Flag("--trace");

        var byBackend = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var byError = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int attempts = 0;
        await using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
        await using var json = new Utf8JsonWriter(stdout);

        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            attempts++;
            long started = MonotonicNanoseconds();
            string? backend = null;
            string? error = null;
            using (var socket = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
            using (var deadline = new CancellationTokenSource(timeout))
            {
                try
                {
                    await socket.ConnectAsync(to, deadline.Token);
                    backend = await TcpConnectCommand.ReadNameAsync(socket, deadline.Token);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    error = AttemptWriter.Describe(e).Error;
                }
            }
            long finished = MonotonicNanoseconds();
            Count(backend is null ? byError : byBackend, backend ?? error!);
            if (trace)
            {
                json.WriteStartObject();
                json.WriteNumber("s", started);
                json.WriteNumber("e", finished);
                json.WriteString(backend is null ? "error" : "backend", backend ?? error);
                json.WriteEndObject();
                WriteLineEnd(json, stdout);
            }
        }

        json.WriteStartObject();
        json.WriteBoolean("summary", true);
        json.WriteNumber("attempts", attempts);
        json.WriteNumber("failures", byError.Values.Sum());
        WriteCounts(json, "byBackend", byBackend);
        WriteCounts(json, "errors", byError);
        json.WriteEndObject();
        WriteLineEnd(json, stdout);
        return 0;
    }

    /// <summary>Stopwatch ticks in nanoseconds; on Linux Stopwatch reads CLOCK_MONOTONIC.</summary>
    public static long MonotonicNanoseconds() =>
        (long)((Int128)Stopwatch.GetTimestamp() * 1_000_000_000 / Stopwatch.Frequency);

    private static void Count(SortedDictionary<string, int> counts, string key) =>
        counts[key] = counts.GetValueOrDefault(key) + 1;

    private static void WriteCounts(Utf8JsonWriter json, string name, SortedDictionary<string, int> counts)
    {
        json.WriteStartObject(name);
        foreach ((string key, int n) in counts)
            json.WriteNumber(key, n);
        json.WriteEndObject();
    }

    private static void WriteLineEnd(Utf8JsonWriter json, Stream stdout)
    {
        json.Flush();
        json.Reset();
        stdout.WriteByte((byte)'\n');
    }
}
