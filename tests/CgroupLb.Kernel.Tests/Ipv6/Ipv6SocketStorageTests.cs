using System.Diagnostics;
using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>
/// Where IPv6 reverse entries live: with socket storage (the probe's <c>SocketStorage</c>, on from 5.11-ish kernels
/// that allow bpf_sk_storage_get in sock_addr programs) a TCP or connected UDP socket keeps its entry in
/// lb6_sk_frontend and lb6_reverse_sk stays empty, and an unconnected socket reaching a second backend puts only that
/// one in lb6_reverse_sk; without it (5.10) every entry is in lb6_reverse_sk. Either way getpeername and reply sources
/// show the frontend.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6SocketStorageTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web6 = new(Vip6(0x10), 80);
    private static readonly IPEndPoint DnsOnB1 = new(Vip6(0x53), 53);
    private static readonly IPEndPoint DnsOnB2 = new(Vip6(0x54), 53);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task Ipv6ReverseEntriesLiveInSocketStorageWhereTheKernelAllowsIt()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        bool storage = datapath.Features?.SocketStorage ?? throw new InvalidOperationException("a fresh attach must report whether socket storage loaded");
        datapath.Writer.Apply(Upsert(
            Tcp6(Web6.Address, 80, sandbox.Backends),
            Udp6(DnsOnB1.Address, 53, [sandbox.Backend("b1")]),
            Udp6(DnsOnB2.Address, 53, [sandbox.Backend("b2")])));

        IReadOnlyList<PeerAttempt> tcp = await sandbox.TcpConnectAsync(Web6, count: 5);
        IReadOnlyList<PeerAttempt> connected = await sandbox.UdpConnectedAsync(DnsOnB1, count: 3);

        Assert.All(tcp, a => { Assert.True(a.Ok, a.ToString()); Assert.Equal(Web6, a.PeerEndPoint); });
        Assert.All(connected, a => { Assert.True(a.Ok, a.ToString()); Assert.Equal(DnsOnB1, a.FromEndPoint); });
        int afterConnected = ReverseEntries(sandbox);
        _log.Write($"socket storage: {storage}; lb6_reverse_sk entries after 5 TCP and 3 connected UDP sockets: {afterConnected}");
        Assert.Equal(storage ? 0 : 8, afterConnected);

        // One unconnected socket, two frontends on two backends: the first backend's entry fits the socket's storage,
        // the second goes to lb6_reverse_sk, and each reply still comes from the frontend its request was sent to.
        IReadOnlyList<PeerAttempt> alternating = PeerAttempt.ParseLines(await sandbox.RunClientAsync(
            ["udp-alternate", "--to", DnsOnB1.ToString(), "--also", DnsOnB2.ToString(), "--count", "4"], ClientPlacement.InCgroup));

        Assert.Equal(4, alternating.Count);
        for (int i = 0; i < alternating.Count; i++)
        {
            Assert.True(alternating[i].Ok, alternating[i].ToString());
            Assert.Equal(i % 2 == 0 ? "b1" : "b2", alternating[i].Backend);
            Assert.Equal(i % 2 == 0 ? DnsOnB1 : DnsOnB2, alternating[i].FromEndPoint);
        }
        Assert.Equal(afterConnected + (storage ? 1 : 2), ReverseEntries(sandbox));
    }

    /// <summary>
    /// The IPv6 twin of UdpServiceTests' reuse test: one unconnected IPv6 socket reuses its translation while its
    /// Service's generation (lb_svc_gen) stands, so slots rewritten behind the writer's back leave it where it is; a
    /// new generation moves it, reuse resumes after the move, and the writer's own change moves it again. Without
    /// socket storage (the probe's answer on kernels that refuse it in sock_addr programs) nothing is reused and the
    /// rewrite moves the socket at once. Every reply comes from the VIP.
    /// </summary>
    [SkippableFact]
    public async Task AnUnconnectedIpv6SocketReusesItsTranslationUntilTheServiceGenerationChanges()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        bool storage = datapath.Features?.SocketStorage ?? throw new InvalidOperationException("a fresh attach must report whether socket storage loaded");
        datapath.Writer.Apply(Upsert(Udp6(DnsOnB1.Address, 53, sandbox.Backends)));
        var options = sandbox.DatapathOptions();
        using var services = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.Services6));
        using var generations = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.ServiceGenerations));
        var master = Lb6ServiceKey.Create(DnsOnB1.Address, 53, 17, 0);
        Assert.True(services.TryLookup(master, out Lb6ServiceValue masterValue));
        Assert.True(generations.TryLookup(masterValue.ServiceId, out uint generation));
        Assert.NotEqual(0u, generation); // the writer gave the new frontend its first generation

        using HeldClient client = HeldClient.Start(sandbox, "udp-sendto-hold", DnsOnB1.ToString());
        await client.WaitForAsync(run => run.Replies.Count() >= 4, ClientsStart, "four replies");
        string first = client.EventsSoFar().Replies.First().Backend!;
        SandboxBackend other = sandbox.Backends.First(b => b.Name != first);
        RewriteSlots(services, master, masterValue.Count, other);
        long rewritten = Stopwatch.GetTimestamp();
        await client.WaitForAsync(run => run.After(rewritten).Count(e => e.Kind == "reply") >= 4, ClientsStart, "four replies after the rewrite");

        generations.Update(masterValue.ServiceId, generation + 1, BpfUpdateFlags.Exist);
        long bumped = Stopwatch.GetTimestamp();
        await client.WaitForAsync(run => run.After(bumped).Count(e => e.Kind == "reply") >= 4, ClientsStart, "four replies after the new generation");

        // With storage the move gave the entry the new pair and generation: reuse resumes, so a second rewrite
        // behind the writer's back leaves the socket on the other backend.
        RewriteSlots(services, master, masterValue.Count, sandbox.Backends.Single(b => b.Name == first));
        long rewrittenAgain = Stopwatch.GetTimestamp();
        await client.WaitForAsync(run => run.After(rewrittenAgain).Count(e => e.Kind == "reply") >= 4, ClientsStart, "four replies after the second rewrite");

        // The writer moves the generation on inside Apply: a reply between the two stamps may come from either side.
        long removing = Stopwatch.GetTimestamp();
        datapath.Writer.Apply(Upsert(Udp6(DnsOnB1.Address, 53, sandbox.Backends.Where(b => b.Name != other.Name))));
        long removed = Stopwatch.GetTimestamp();
        await client.WaitForAsync(run => run.After(removed).Count(e => e.Kind == "reply") >= 4, ClientsStart, "four replies after the removal");
        HoldRun run = await client.StopAsync();
        _log.Write($"socket storage: {storage}; {run}");

        Assert.Empty(run.SocketErrors); // no reply from anything but the VIP, no send error
        // One datagram may be in flight across each change, so its reply is left out.
        var beforeBump = run.After(rewritten).Where(e => e.Kind == "reply" && e.T < bumped).Skip(1).ToList();
        Assert.NotEmpty(beforeBump);
        Assert.All(beforeBump, e => Assert.Equal(storage ? first : other.Name, e.Backend));
        Assert.All(run.After(bumped).Where(e => e.Kind == "reply" && e.T < rewrittenAgain).Skip(1), e => Assert.Equal(other.Name, e.Backend));
        Assert.All(run.After(rewrittenAgain).Where(e => e.Kind == "reply" && e.T < removing).Skip(1),
            e => Assert.Equal(storage ? other.Name : first, e.Backend));
        Assert.All(run.After(removed).Where(e => e.Kind == "reply").Skip(1), e => Assert.NotEqual(other.Name, e.Backend));
    }

    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(30);

    /// <summary>Points every slot of the frontend at <paramref name="backend"/>, as no writer would: no generation moves.</summary>
    private static void RewriteSlots(BpfMapHandle services, Lb6ServiceKey master, ushort count, SandboxBackend backend)
    {
        for (ushort slot = 1; slot <= count; slot++)
        {
            var key = master.WithSlot(slot);
            Assert.True(services.TryLookup(key, out Lb6ServiceValue value));
            services.Update(key, value with { BackendAddress = Lb6Address.Create(backend.Address6) }, BpfUpdateFlags.Exist);
        }
    }

    private static int ReverseEntries(KernelSandbox sandbox)
    {
        using var reverse = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(MapNames.ReverseSockets6));
        return reverse.Keys<Lb6ReverseSkKey>().Count();
    }
}
