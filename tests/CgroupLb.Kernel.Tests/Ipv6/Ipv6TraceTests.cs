using System.Collections.Concurrent;
using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Tracing;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>`cgroup-lb trace` on connect6: a translated and a refused IPv6 connect, with 16-byte addresses.</summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6TraceTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web6 = new(Vip6(0x30), 80);
    private static readonly IPEndPoint Empty6 = new(Vip6(0x31), 80);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task TraceShowsTranslatedAndRefusedIpv6Connects()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        var empty = new LoadBalancerService(new Frontend(Empty6.Address, 80, L4Protocol.Tcp), "default/empty:http", ServiceFlags.ClusterIp, []);
        datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, sandbox.Backends), empty));
        if (datapath.Features is { RingBuffer: false })
            return; // before 5.8: TraceTests covers the refusal to trace

        var events = new ConcurrentQueue<TraceEvent>();
        using var tracer = TraceSession.Start(sandbox.BpffsPath, TraceFilter.All, events.Enqueue);
        PeerAttempt translated = Assert.Single(await sandbox.TcpConnectAsync(Web6));
        PeerAttempt refused = Assert.Single(await sandbox.TcpConnectAsync(Empty6));
        Assert.True(translated.Ok, translated.ToString());
        Assert.False(refused.Ok, refused.ToString());

        var deadline = DateTime.UtcNow + SandboxTimeouts.Seconds(10);
        while (events.Count < 2 && DateTime.UtcNow < deadline)
        {
            tracer.Poll(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }

        TraceEvent hit = Assert.Single(events, e => e.Frontend.Equals(Web6));
        _log.Write($"translated: {hit}");
        Assert.Equal(LbTraceVerdict.Translated, hit.Verdict);
        Assert.Equal(new IPEndPoint(sandbox.Backend("b1").Address6, SandboxBackend.TcpPort), hit.Backend);
        Assert.Equal(("connect6", "TCP", "default/web:http"), (hit.HookName, hit.Protocol, hit.ServiceName));
        TraceEvent miss = Assert.Single(events, e => e.Frontend.Equals(Empty6));
        _log.Write($"refused: {miss}");
        Assert.Equal(LbTraceVerdict.RefusedNoBackend, miss.Verdict);
        Assert.Null(miss.Backend);
        Assert.Equal("connect6", miss.HookName);
    }
}
