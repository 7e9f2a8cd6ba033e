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
    /// sendmsg6's reuse of an unconnected socket's translation while its Service's generation stands: the same
    /// timeline as the IPv4 test (<see cref="TranslationReuse"/>) over lb6_services and lb6_sk_frontend.
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

        await TranslationReuse.RunAsync(sandbox, DnsOnB1, storage, new TranslationReuse.Steps(
            RewriteSlotsBehindTheWriter: backend => RewriteSlots(services, master, masterValue.Count, backend),
            MoveGeneration: () => generations.Update(masterValue.ServiceId, generation + 1, BpfUpdateFlags.Exist),
            RemoveThroughTheWriter: backend => datapath.Writer.Apply(Upsert(Udp6(DnsOnB1.Address, 53, sandbox.Backends.Where(b => b != backend))))),
            _log);
    }

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
