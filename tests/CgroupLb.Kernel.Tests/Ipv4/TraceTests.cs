using System.Collections.Concurrent;
using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Tracing;
using CgroupLb.Interop;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// `cgroup-lb trace` end to end in the sandbox: events only while a tracer runs, a translated and a refused connect
/// with their frontend, backend and reason, and a switch that counts tracers.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class TraceTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web = new(Vip(30), 80);
    private static readonly IPEndPoint Empty = new(Vip(31), 80);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task TraceShowsTranslatedAndRefusedConnectsOnlyWhileATracerRuns()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        var empty = new LoadBalancerService(new Frontend(Empty.Address, 80, L4Protocol.Tcp), "default/empty:http", ServiceFlags.ClusterIp, []);
        datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, sandbox.Backends), empty));
        var events = new ConcurrentQueue<TraceEvent>();

        if (datapath.Features is { RingBuffer: false })
        {
            // Before 5.8: the programs run without events and the tracer says so instead of waiting forever.
            var ex = Assert.Throws<DatapathException>(() => TraceSession.Start(sandbox.BpffsPath, TraceFilter.All, events.Enqueue));
            Assert.Contains("ring buffer", ex.Message);
            return;
        }

        // No tracer: the decision is made but nothing is written to the ring.
        PeerAttempt untraced = Assert.Single(await sandbox.TcpConnectAsync(Web));
        Assert.True(untraced.Ok, untraced.ToString());
        using (var tracer = TraceSession.Start(sandbox.BpffsPath, TraceFilter.All, events.Enqueue))
        {
            Assert.Equal(0, tracer.Poll(TimeSpan.Zero));
            Assert.Equal(1u, tracer.Tracers);

            PeerAttempt translated = Assert.Single(await sandbox.TcpConnectAsync(Web));
            PeerAttempt refused = Assert.Single(await sandbox.TcpConnectAsync(Empty));
            Assert.True(translated.Ok, translated.ToString());
            Assert.False(refused.Ok, refused.ToString());
            await PollUntil(tracer, events, 2);

            ulong cgroupId = await CgroupAttachments.CgroupIdAsync(sandbox.CgroupPath);
            TraceEvent hit = Assert.Single(events, e => e.Frontend.Equals(Web));
            _log.Write($"translated: {hit}");
            Assert.Equal(LbTraceVerdict.Translated, hit.Verdict);
            Assert.Equal(sandbox.Backend("b1").TcpEndPoint, hit.Backend);
            Assert.Equal("default/web:http", hit.ServiceName);
            Assert.Equal(("connect4", "TCP"), (hit.HookName, hit.Protocol));
            Assert.Equal(cgroupId, hit.CgroupId);
            Assert.NotEqual(0u, hit.Pid);
            Assert.NotEqual(0ul, hit.NetnsCookie);
            Assert.NotEmpty(hit.Comm);
            Assert.InRange(hit.Time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

            TraceEvent miss = Assert.Single(events, e => e.Frontend.Equals(Empty));
            _log.Write($"refused: {miss}");
            Assert.Equal(LbTraceVerdict.RefusedNoBackend, miss.Verdict);
            Assert.Null(miss.Backend);
            Assert.Equal("no backends", miss.RefusalReason);
            Assert.Equal("default/empty:http", miss.ServiceName);
            Assert.Equal(hit.NetnsCookie, miss.NetnsCookie);

            // A second tracer that exits must not switch the first one off.
            using (var second = TraceSession.Start(sandbox.BpffsPath, new TraceFilter(Service: "default/empty"), _ => { }))
                Assert.Equal(2u, second.Tracers);
            Assert.Equal(1u, tracer.Tracers);
            events.Clear();
            PeerAttempt again = Assert.Single(await sandbox.TcpConnectAsync(Web));
            Assert.True(again.Ok, again.ToString());
            await PollUntil(tracer, events, 1);
            Assert.Equal(0ul, tracer.Lost);
        }

        using var control = BpfMapHandle.OpenPinned(Path.Combine(sandbox.BpffsPath, MapNames.TraceControl));
        Assert.True(control.TryLookup(0u, out LbTraceControl state));
        Assert.Equal(0u, state.Tracers);
    }

    /// <summary>
    /// The loader's answer to a kernel without ring buffers (before 5.8), forced here since every tested kernel has
    /// them: the trace code is pruned, lb_trace_events is a one-element array stand-in, the programs load and attach,
    /// and the tracer refuses with the reason instead of waiting for events that never come.
    /// </summary>
    [SkippableFact]
    public async Task WithoutRingBuffersTheProgramsLoadAndTraceSaysWhyItCannotRun()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        var options = sandbox.DatapathOptions();
        Directory.CreateDirectory(options.LinksPath);

        ObjectLoader.LoadAndAttach(options, DatapathFeatures.Probe() with { RingBuffer = false }, _log.CreateLogger("test"));

        Assert.Equal(ProgramCatalog.All.Count, (await CgroupAttachments.ListAsync(sandbox.CgroupPath)).Count);
        using (var events = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.TraceEvents)))
            Assert.Equal(BpfMapType.Array, events.Info.Type);
        var ex = Assert.Throws<DatapathException>(() => TraceSession.Start(sandbox.BpffsPath, TraceFilter.All, _ => { }));
        Assert.Contains("no BPF ring buffer", ex.Message);
    }

    private static async Task PollUntil(TraceSession tracer, ConcurrentQueue<TraceEvent> events, int count)
    {
        var deadline = DateTime.UtcNow + SandboxTimeouts.Seconds(10);
        while (events.Count < count && DateTime.UtcNow < deadline)
        {
            tracer.Poll(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }
        Assert.True(events.Count >= count, $"expected {count} trace events, got {events.Count}: {string.Join("; ", events)}");
    }
}
