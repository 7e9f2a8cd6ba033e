using System.Diagnostics;
using System.Globalization;
using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Termination;
using CgroupLb.Kernel.Tests.Ipv4;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Interop;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.Sandbox;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Termination;

/// <summary>
/// Sockets the LB connected to a backend that then left the Service are closed, in the client's own network
/// namespace (found through the sandbox cgroup's processes), by the bpf_sock_destroy iterators and, with them
/// switched off, by netlink SOCK_DESTROY. A socket connected straight to the same backend address was never
/// translated and must keep working. Each client holds one socket from its first reply until the test has seen the
/// close, and stamps its events with the monotonic clock, so the test can tell what happened before and after the removal.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class SocketTerminationTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Dns = new(Vip(53), 53);
    private static readonly IPEndPoint Web = new(Vip(80), 80);
    // One second on real hardware; stretched only in emulated guests (tests/vm), where a process start takes seconds.
    private static readonly TimeSpan Deadline = SandboxTimeouts.Seconds(1);
    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(20);

    // bpf_sock_destroy exists from 6.5; before it the agent must fall back to netlink, and the test asserts that.
    private static readonly SocketTerminationMethod Unforced =
        Environment.OSVersion.Version >= new Version(6, 5) ? SocketTerminationMethod.BpfIterator : SocketTerminationMethod.Netlink;
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public Task ConnectedUdpToARemovedBackendIsClosedAndRebalancedByTheIteratorOrBefore65ByNetlink() =>
        UdpRemovalAsync(forceNetlink: false, Unforced);

    [SkippableFact]
    public Task ConnectedUdpToARemovedBackendIsClosedByNetlinkWhenTheKfuncIsOff() =>
        UdpRemovalAsync(forceNetlink: true, SocketTerminationMethod.Netlink);

    [SkippableFact]
    public Task TcpConnectionToARemovedBackendIsAbortedWhenTcpTerminationIsOn() =>
        TcpRemovalAsync(forceNetlink: false, Unforced);

    [SkippableFact]
    public Task TcpConnectionToARemovedBackendIsAbortedByNetlinkWhenTheKfuncIsOff() =>
        TcpRemovalAsync(forceNetlink: true, SocketTerminationMethod.Netlink);

    private async Task UdpRemovalAsync(bool forceNetlink, SocketTerminationMethod expected)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, [b1])));
        using SocketTerminator terminator = Open(sandbox, forceNetlink, terminateTcp: false);
        Assert.Equal(expected, terminator.Method);

        using HeldClient viaService = HeldClient.Start(sandbox, "udp-hold", Dns.ToString());
        using HeldClient direct = HeldClient.Start(sandbox, "udp-hold", b1.UdpEndPoint.ToString());
        await Task.WhenAll(viaService.WaitReadyAsync(ClientsStart), direct.WaitReadyAsync(ClientsStart));
        // getpeername() after connect, then the first reply's recvfrom(): the held socket has talked to b1.
        Assert.True(datapath.ReadStatus().Frontends.Single().Counters.ReverseTranslated >= 2, "the held socket's replies were not reverse-translated");
        AssertReverseEntriesWhereTheDatapathKeepsThem(sandbox, datapath);

        long removedAt = Stopwatch.GetTimestamp();
        datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, [b2])));
        SocketTerminationResult result = terminator.Terminate([new RemovedBackend(Frontend(Dns, L4Protocol.Udp), new Backend(b1.Address, SandboxBackend.UdpPort, L4Protocol.Udp))]);
        long closedAt = Stopwatch.GetTimestamp();
        _log.Write($"terminate: {result}");

        await viaService.WaitForAsync(RebalancedAfterAnError, ClientsStart, "a socket error, a reply from b2 and three more replies after it");
        await direct.WaitForAsync(run => run.After(removedAt).Any(e => e.Backend == "b1"), ClientsStart, "a reply from b1 after the removal");
        HoldRun held = await viaService.StopAsync(), untouched = await direct.StopAsync();
        _log.Write($"via the service:\n{held}\ndirect to b1:\n{untouched}");

        Assert.Equal(1, result.Closed);
        AssertWithinDeadline("the removal and the close", removedAt, closedAt);
        Assert.Contains(held.Before(removedAt), e => e.Backend == "b1");
        // The client's next send finds the socket disconnected (EDESTADDRREQ) or its next receive reads the
        // ECONNABORTED the close left; either way it connects again and is balanced to what the service holds now.
        HoldRun.Event closed = held.SocketErrors.First();
        Assert.True(closed.T >= removedAt, $"an error before the removal: {closed}");
        AssertWithinDeadline("the close and the client's error", closedAt, closed.T);
        // Which of the two the client meets first depends on whether it was sending or receiving at the close.
        Assert.Contains(closed.Error, new[] { "ECONNABORTED", "EDESTADDRREQ" });
        // connect() keeps the receive queue, so a reply b1 sent before the close may still be read after it (seen in an
        // emulated guest); once b2 has answered, b1 never does again.
        HoldRun.Event? rebalanced = held.After(closed.T).FirstOrDefault(e => e.Backend == "b2");
        Assert.True(rebalanced is not null, "no reply from b2 after the close");
        Assert.DoesNotContain(held.After(rebalanced.T), e => e.Backend == "b1");
        Assert.DoesNotContain(held.After(rebalanced.T), e => e.Kind == "error" && e.Error != "TIMEOUT");

        Assert.Empty(untouched.SocketErrors);
        Assert.Contains(untouched.After(removedAt), e => e.Backend == "b1");
    }

    private async Task TcpRemovalAsync(bool forceNetlink, SocketTerminationMethod expected)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b1])));
        using SocketTerminator withoutTcp = Open(sandbox, forceNetlink, terminateTcp: false);
        using SocketTerminator terminator = Open(sandbox, forceNetlink, terminateTcp: true);
        Assert.Equal(expected, terminator.Method);

        using HeldClient viaService = HeldClient.Start(sandbox, "tcp-hold", Web.ToString());
        using HeldClient direct = HeldClient.Start(sandbox, "tcp-hold", b1.TcpEndPoint.ToString());
        // Both have read their backend's name.
        await Task.WhenAll(viaService.WaitReadyAsync(ClientsStart), direct.WaitReadyAsync(ClientsStart));
        Assert.True(datapath.ReadStatus().Frontends.Single().Counters.Translated >= 1, "the held connection was not translated");
        AssertReverseEntriesWhereTheDatapathKeepsThem(sandbox, datapath);
        AssertTcpEntryClaimedWhereTheDatapathClaims(sandbox, datapath, b1);

        datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b2])));
        RemovedBackend[] removed = [new RemovedBackend(Frontend(Web, L4Protocol.Tcp), new Backend(b1.Address, SandboxBackend.TcpPort, L4Protocol.Tcp))];
        SocketTerminationResult off = withoutTcp.Terminate(removed);
        long removedAt = Stopwatch.GetTimestamp();
        SocketTerminationResult on = terminator.Terminate(removed);
        long closedAt = Stopwatch.GetTimestamp();
        _log.Write($"terminate without TCP: {off}; with TCP: {on}");

        await viaService.WaitForAsync(run => run.SocketErrors.Any(), ClientsStart, "a socket error");
        HoldRun held = await viaService.StopAsync(), untouched = await direct.StopAsync();
        _log.Write($"via the service:\n{held}\ndirect to b1:\n{untouched}");

        Assert.Equal(0, off.Closed);
        Assert.Equal(1, on.Closed);
        AssertWithinDeadline("the removal and the close", removedAt, closedAt);
        Assert.Contains(held.Replies, e => e.Backend == "b1");
        HoldRun.Event aborted = Assert.Single(held.SocketErrors);
        Assert.Equal("ECONNABORTED", aborted.Error);
        Assert.True(aborted.T >= removedAt, $"an error before the removal: {aborted}");
        AssertWithinDeadline("the close and the client's error", closedAt, aborted.T);
        Assert.Empty(untouched.SocketErrors);
        Assert.Contains(untouched.Replies, e => e.Backend == "b1");
    }

    /// <summary>
    /// The held UDP socket met the close (an error), was balanced again (b2 answered) and went on exchanging, so the
    /// test can also check that b1 never answered after b2 did.
    /// </summary>
    internal static bool RebalancedAfterAnError(HoldRun run) =>
        run.SocketErrors.FirstOrDefault() is { } error
        && run.After(error.T).FirstOrDefault(e => e.Backend == "b2") is { } rebalanced
        && run.After(rebalanced.T).Count(e => e.Kind == "reply") >= 4;

    /// <summary>
    /// With socket storage (on wherever the kernel allows bpf_sk_storage_get in sock_addr programs, as on CI) a connected
    /// socket's reverse entry lives only there: lb4_reverse_sk is empty, and a close can only come from reading the
    /// storage (the iterator's bpf_sk_storage_get, netlink's INET_DIAG_REQ_SK_BPF_STORAGES). Without it the entry is in
    /// lb4_reverse_sk.
    /// </summary>
    private void AssertReverseEntriesWhereTheDatapathKeepsThem(KernelSandbox sandbox, LoadBalancerDatapath datapath)
    {
        using var reverse = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(MapNames.ReverseSockets));
        int entries = reverse.Keys<Lb4ReverseSkKey>().Count();
        _log.Write($"socket storage: {datapath.Features?.SocketStorage}; lb4_reverse_sk entries: {entries}");
        if (datapath.Features?.SocketStorage == true)
            Assert.Equal(0, entries);
        else
            Assert.True(entries > 0, "socket storage off, yet lb4_reverse_sk is empty");
    }

    /// <summary>
    /// Where the kernel has bpf_rdonly_cast (6.2+) the held TCP socket's entry is its claimed one in lb4_sk_claim, not
    /// socket storage, so the close can only come from reading that array; elsewhere the array stays empty.
    /// </summary>
    private void AssertTcpEntryClaimedWhereTheDatapathClaims(KernelSandbox sandbox, LoadBalancerDatapath datapath, SandboxBackend backend)
    {
        SocketClaimTests.Claim[] claimed = SocketClaimTests.ClaimedEntries(sandbox.DatapathOptions());
        _log.Write($"claims: {datapath.Features?.SocketClaims}; lb4_sk_claim entries: {claimed.Length}");
        if (datapath.Features?.SocketClaims == true)
            Assert.Equal(backend.Address, Assert.Single(claimed).Backend);
        else
            Assert.Empty(claimed);
    }

    /// <summary>Both stamps are CLOCK_MONOTONIC nanoseconds (Stopwatch's ticks on Linux).</summary>
    private static void AssertWithinDeadline(string between, long from, long to) =>
        Assert.True(to - from < Deadline.Ticks * 100, $"{ToMs(to - from)} ms between {between}; the bound is {Deadline.TotalMilliseconds} ms");

    private SocketTerminator Open(KernelSandbox sandbox, bool forceNetlink, bool terminateTcp) =>
        SocketTerminator.Open(new SocketTerminationOptions(sandbox.CgroupPath, sandbox.BpffsPath)
        {
            ForceNetlink = forceNetlink,
            TerminateTcp = terminateTcp,
        }, ((ILoggerFactory)_log).CreateLogger("SocketTermination"));

    private static Frontend Frontend(IPEndPoint endPoint, L4Protocol protocol) => new(endPoint.Address, (ushort)endPoint.Port, protocol);

    private static string ToMs(long nanoseconds) => (nanoseconds / 1e6).ToString("0.0", CultureInfo.InvariantCulture);
}
