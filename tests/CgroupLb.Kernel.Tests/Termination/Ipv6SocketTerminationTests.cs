using System.Diagnostics;
using System.Globalization;
using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Termination;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.Sandbox;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Termination;

/// <summary>
/// An IPv6 TCP connection the LB translated is aborted when its backend leaves the Service, by the bpf_sock_destroy
/// iterators (Linux 6.5+), which read lb6_sk_frontend or lb6_reverse_sk; a connection straight to the backend's
/// address is left alone. Before 6.5 the netlink fallback closes IPv4 sockets only, and the test asserts that the
/// IPv6 connection stays (the documented gap).
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6SocketTerminationTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web6 = new(Vip6(0x80), 80);
    private static readonly TimeSpan Deadline = SandboxTimeouts.Seconds(1);
    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(20);
    private static readonly SocketTerminationMethod Unforced =
        Environment.OSVersion.Version >= new Version(6, 5) ? SocketTerminationMethod.BpfIterator : SocketTerminationMethod.Netlink;
    private const int HoldMilliseconds = 8000;
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task Ipv6TcpConnectionToARemovedBackendIsAbortedByTheIterator()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, [b1])));
        using SocketTerminator terminator = SocketTerminator.Open(
            new SocketTerminationOptions(sandbox.CgroupPath, sandbox.BpffsPath) { TerminateTcp = true },
            ((ILoggerFactory)_log).CreateLogger("SocketTermination"));
        Assert.Equal(Unforced, terminator.Method);

        Task<CommandResult> viaService = Hold(sandbox, Web6);
        Task<CommandResult> direct = Hold(sandbox, new IPEndPoint(b1.Address6, SandboxBackend.TcpPort));
        var waited = Stopwatch.StartNew();
        while (datapath.ReadStatus().Frontends.Single().Counters.Translated < 1)
        {
            Assert.True(waited.Elapsed < ClientsStart, $"the held client did not reach b1 within {ClientsStart}");
            await Task.Delay(50);
        }
        await Task.Delay(TimeSpan.FromSeconds(1));

        datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, [b2])));
        long removedAt = Stopwatch.GetTimestamp();
        SocketTerminationResult result = terminator.Terminate(
            [new RemovedBackend(new Frontend(Web6.Address, (ushort)Web6.Port, L4Protocol.Tcp), new Backend(b1.Address6, SandboxBackend.TcpPort, L4Protocol.Tcp))]);
        long closedAt = Stopwatch.GetTimestamp();
        _log.Write($"terminate ({terminator.Method}): {result}");

        HoldRun held = HoldRun.Parse(await viaService), untouched = HoldRun.Parse(await direct);
        _log.Write($"via the service:\n{held}\ndirect to b1:\n{untouched}");

        Assert.Contains(held.Replies, e => e.Backend == "b1");
        Assert.Empty(untouched.SocketErrors);
        Assert.Contains(untouched.Replies, e => e.Backend == "b1");
        if (terminator.Method != SocketTerminationMethod.BpfIterator)
        {
            Assert.Equal(0, result.Closed);
            Assert.Empty(held.SocketErrors);
            return;
        }
        Assert.Equal(1, result.Closed);
        Assert.True(closedAt - removedAt < Deadline.Ticks * 100, $"{(closedAt - removedAt) / 1e6:0.0} ms to close; the bound is {Deadline.TotalMilliseconds} ms");
        HoldRun.Event aborted = Assert.Single(held.SocketErrors);
        Assert.Equal("ECONNABORTED", aborted.Error);
        Assert.True(aborted.T >= removedAt, $"an error before the removal: {aborted}");
    }

    private static Task<CommandResult> Hold(KernelSandbox sandbox, IPEndPoint to) =>
        sandbox.RunClientAsync(["tcp-hold", "--to", to.ToString(), "--duration-ms", HoldMilliseconds.ToString(CultureInfo.InvariantCulture), "--timeout-ms", "1000"],
            ClientPlacement.InCgroup);
}
