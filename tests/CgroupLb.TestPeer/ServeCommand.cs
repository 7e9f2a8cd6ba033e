using System.Runtime.InteropServices;

namespace CgroupLb.TestPeer;

/// <summary>
/// <c>serve --name NAME [--tcp P[,P..]] [--udp P[,P..]] [--http P]</c>: binds every listener, prints "ready", then
/// serves until SIGTERM/SIGINT, or until stdin closes when stdin is a pipe. The pipe rule lets a test harness stop
/// its backends by closing their stdin even if it dies without killing them, while a backend started from a shell
/// with stdin on /dev/null or a terminal keeps running.
/// </summary>
public static class ServeCommand
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        args.RejectUnknown("--name", "--tcp", "--udp", "--http");
        string name = args.Required("--name");
        IReadOnlyList<ushort> tcpPorts = args.Ports("--tcp");
        IReadOnlyList<ushort> udpPorts = args.Ports("--udp");
        IReadOnlyList<ushort> httpPorts = args.Ports("--http");
        if (tcpPorts.Count + udpPorts.Count + httpPorts.Count == 0)
            throw new PeerUsageException("serve: give at least one of --tcp, --udp, --http");

        var tcp = tcpPorts.Select(p => new TcpNameServer(name, p)).ToList();
        var udp = udpPorts.Select(p => new UdpNameServer(name, p)).ToList();
        var http = httpPorts.Select(p => new HttpNameServer(name, p)).ToList();
        try
        {
            tcp.ForEach(s => s.Start());
            udp.ForEach(s => s.Start());
            http.ForEach(s => s.Start());

            using var stop = new CancellationTokenSource();
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            var servers = tcp.Select(s => s.RunAsync(stop.Token))
                .Concat(udp.Select(s => s.RunAsync(stop.Token)))
                .Concat(http.Select(s => s.RunAsync(stop.Token)))
                .ToList();
            if (StdinIsPipe())
                servers.Add(WaitForStdinEofAsync());

            Console.Out.WriteLine("ready");
            Console.Out.Flush();

            Task first = await Task.WhenAny(servers);
            stop.Cancel();
            if (first.IsFaulted && first.Exception!.InnerException is not OperationCanceledException)
            {
                Console.Error.WriteLine($"cglb-testpeer serve {name}: {first.Exception.InnerException!.Message}");
                return 1;
            }
            return 0;

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        }
        finally
        {
            tcp.ForEach(s => s.Dispose());
            udp.ForEach(s => s.Dispose());
            http.ForEach(s => s.Dispose());
        }
    }

    private static bool StdinIsPipe()
    {
        try
        {
            return new FileInfo("/proc/self/fd/0").LinkTarget?.StartsWith("pipe:", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static Task WaitForStdinEofAsync() => Task.Run(async () =>
    {
        using Stream stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        while (await stdin.ReadAsync(buffer) > 0)
        {
        }
    });
}
