using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// UDP through sendmsg4/recvmsg4 (unconnected sockets translate per datagram and must see replies come from the VIP)
/// and through connect4/getpeername4 (connected sockets).
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class UdpServiceTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Dns = new(Vip(53), 53);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task UnconnectedSendtoReachesBackendsAndRepliesComeFromTheVip()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, sandbox.Backends)));

        IReadOnlyList<PeerAttempt> attempts = await sandbox.UdpSendToAsync(Dns, count: 60);

        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            // recvfrom() must name the address the client sent to, or resolvers drop the answer as spoofed.
            Assert.Equal(Dns, a.FromEndPoint);
        });
        Assert.Equal(["b1", "b2", "b3"], attempts.Select(a => a.Backend!).Distinct().Order());
    }

    /// <summary>
    /// One unconnected socket reuses its translation datagram after datagram while its Service's generation
    /// (lb_svc_gen) stands; the timeline and what it must show are <see cref="TranslationReuse"/>'s.
    /// </summary>
    [SkippableFact]
    public async Task AnUnconnectedSocketReusesItsTranslationUntilTheServiceGenerationChanges()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, sandbox.Backends)));
        var options = sandbox.DatapathOptions();
        using var services = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.Services));
        using var generations = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.ServiceGenerations));
        var master = new Lb4ServiceKey { AddressBe = NetworkOrder.ToBe32(Dns.Address), PortBe = NetworkOrder.ToBe16(53), Proto = 17 };
        Assert.True(services.TryLookup(master, out LbServiceValue masterValue));
        Assert.True(generations.TryLookup(masterValue.ServiceId, out uint generation));
        Assert.NotEqual(0u, generation); // the writer gave the new frontend its first generation
        bool storage = datapath.Features?.SocketStorage ?? throw new InvalidOperationException("a fresh attach must report whether socket storage loaded");

        await TranslationReuse.RunAsync(sandbox, Dns, storage, new TranslationReuse.Steps(
            RewriteSlotsBehindTheWriter: backend => RewriteSlots(services, master, masterValue.Count, backend),
            MoveGeneration: () => generations.Update(masterValue.ServiceId, generation + 1, BpfUpdateFlags.Exist),
            RemoveThroughTheWriter: backend => datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, sandbox.Backends.Where(b => b != backend))))),
            _log);
    }

    /// <summary>Points every slot of the frontend at <paramref name="backend"/>, as no writer would: no generation moves.</summary>
    private static void RewriteSlots(BpfMapHandle services, Lb4ServiceKey master, ushort count, SandboxBackend backend)
    {
        for (ushort slot = 1; slot <= count; slot++)
        {
            var key = master with { BackendSlot = slot };
            Assert.True(services.TryLookup(key, out LbServiceValue value));
            services.Update(key, value with { BackendAddressBe = NetworkOrder.ToBe32(backend.Address) }, BpfUpdateFlags.Exist);
        }
    }

    [SkippableFact]
    public async Task ConnectedUdpReachesABackendAndSeesTheVipAsPeerAndSource()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, sandbox.Backends)));

        IReadOnlyList<PeerAttempt> attempts = await sandbox.UdpConnectedAsync(Dns, count: 60);

        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal(Dns, a.PeerEndPoint);
            Assert.Equal(Dns, a.FromEndPoint);
        });
        Assert.Equal(["b1", "b2", "b3"], attempts.Select(a => a.Backend!).Distinct().Order());
    }

    [SkippableFact]
    public async Task ATcpServiceDoesNotTranslateUdpToTheSameAddressAndPort()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Tcp(Dns.Address, 53, sandbox.Backends)));

        PeerAttempt udp = Assert.Single(await sandbox.UdpSendToAsync(Dns));

        Assert.False(udp.Ok, udp.ToString());
        Assert.Equal("ENETUNREACH", udp.Error);
    }
}
