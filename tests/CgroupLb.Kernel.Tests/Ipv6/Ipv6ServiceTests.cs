using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;
using CgroupLb.Interop;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>
/// connect6, sendmsg6, recvmsg6 and getpeername6 with 2001:db8::/32 addresses, and the v4-mapped path: an AF_INET6
/// socket naming an IPv4 ClusterIP as ::ffff:a.b.c.d reaches that Service's IPv4 backends and sees the mapped
/// frontend back. Lean on purpose: these also run in the 5.10 and 6.1 guests.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6ServiceTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web6 = new(Vip6(0x10), 80);
    private static readonly IPEndPoint Dns6 = new(Vip6(0x53), 53);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task TcpConnectsToAnIpv6VipSpreadOverThreeBackendsAndGetpeernameShowsTheVip()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, sandbox.Backends)));

        IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(Web6, count: 150);

        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal(Web6, a.PeerEndPoint);
            Assert.Equal(sandbox.Backend(a.Backend!).ClientSideAddress6, IPEndPoint.Parse(a.Local!).Address);
        });
        // Uniform choice among three: the chance that 150 connects miss one backend is about 3 * (2/3)^150.
        Assert.Equal(["b1", "b2", "b3"], attempts.Select(a => a.Backend!).Distinct().Order());
        FrontendStatus status = Assert.Single(datapath.ReadStatus().Frontends);
        Assert.Equal("[2001:db8:100::10]:80/TCP", status.Frontend.ToString());
        Assert.True(status.Counters.Translated >= 150, $"translated counter {status.Counters.Translated} < 150 connects");
    }

    [SkippableFact]
    public async Task UdpRepliesToAnIpv6VipComeFromTheVipConnectedOrNot()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Udp6(Dns6.Address, 53, sandbox.Backends)));

        IReadOnlyList<PeerAttempt> unconnected = await sandbox.UdpSendToAsync(Dns6, count: 10);
        IReadOnlyList<PeerAttempt> connected = await sandbox.UdpConnectedAsync(Dns6, count: 10);

        Assert.All(unconnected.Concat(connected), a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Contains(a.Backend, new[] { "b1", "b2" });
            Assert.Equal(Dns6, a.FromEndPoint);
        });
    }

    /// <summary>
    /// lb6_fe_filter through adds and removes: every frontend keeps its bit while it exists (a missing bit would
    /// leave its sockets untranslated, which the connects would see), a removed one loses it, and a destination that
    /// is no Service (a backend's own address) passes untouched. The bits are read back from the pinned map against
    /// the host's hash, so a hash that differed between C and C# fails here rather than in a cluster.
    /// </summary>
    [SkippableFact]
    public async Task TheIpv6FrontendFilterFollowsAddsAndRemovesAndOtherAddressesPassUntouched()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        var second = new IPEndPoint(Vip6(0x11), 80);
        datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, sandbox.Backends), Tcp6(second.Address, 80, sandbox.Backends)));
        Assert.True(FilterArmed(sandbox), "lb6_fe_filter is not armed after the first write");
        Assert.True(FilterBit(sandbox, Web6.Address) && FilterBit(sandbox, second.Address));

        SandboxBackend b2 = sandbox.Backend("b2");
        var direct = new IPEndPoint(b2.Address6, SandboxBackend.TcpPort);
        var attempts = (await sandbox.TcpConnectAsync(Web6, count: 5)).Concat(await sandbox.TcpConnectAsync(second, count: 5)).ToList();
        IReadOnlyList<PeerAttempt> untouched = await sandbox.TcpConnectAsync(direct, count: 5);

        Assert.All(attempts, a => Assert.True(a.Ok, a.ToString()));
        Assert.All(untouched, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal("b2", a.Backend);
            Assert.Equal(direct, a.PeerEndPoint);
        });

        datapath.Writer.Apply(Delete(Tcp6(Web6.Address, 80, []).Frontend));
        Assert.False(FilterBit(sandbox, Web6.Address), "the removed frontend's bit is still set");
        Assert.True(FilterBit(sandbox, second.Address), "the remaining frontend lost its bit");
        PeerAttempt removed = Assert.Single(await sandbox.TcpConnectAsync(Web6));
        IReadOnlyList<PeerAttempt> kept = await sandbox.TcpConnectAsync(second, count: 5);

        Assert.False(removed.Ok, removed.ToString());
        Assert.Equal("ENETUNREACH", removed.Error);
        Assert.All(kept, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal(second, a.PeerEndPoint);
        });
    }

    private static bool FilterArmed(KernelSandbox sandbox)
    {
        using var filter = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(MapNames.FrontendFilter6));
        uint armed = FrontendAddressFilter.ArmedIndex;
        return filter.TryLookup(in armed, out ulong word) && word != 0;
    }

    private static bool FilterBit(KernelSandbox sandbox, IPAddress address)
    {
        using var filter = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(MapNames.FrontendFilter6));
        uint bit = FrontendAddressFilter6.BitOf(Lb6Address.Create(address));
        uint index = bit >> 6;
        return filter.TryLookup(in index, out ulong word) && (word & (1UL << (int)(bit & 63))) != 0;
    }

    [SkippableFact]
    public async Task AnIpv6ServiceWithoutBackendsRefusesConnects()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, [])));
        bool setRetval = datapath.Features?.SetRetval ?? throw new InvalidOperationException("a fresh attach must report whether bpf_set_retval loaded");
        // As for IPv4: EPERM (reported as EACCES by .NET) where the probe found no bpf_set_retval.
        string[] refusal = setRetval ? ["ECONNREFUSED"] : ["EPERM", "EACCES"];

        IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(Web6, count: 3);

        Assert.All(attempts, a =>
        {
            Assert.False(a.Ok, a.ToString());
            Assert.Equal("connect", a.Stage);
            Assert.Contains(a.Error, refusal);
        });
    }

    /// <summary>
    /// One dual-stack Service, its IPv4 frontend on b1 and its IPv6 frontend on b2/b3 (the families' EndpointSlices),
    /// reached from an AF_INET socket, an AF_INET6 socket, and an AF_INET6 socket naming the IPv4 ClusterIP v4-mapped:
    /// each lands on its own family's backends and sees the frontend it asked for.
    /// </summary>
    [SkippableFact]
    public async Task DualStackServiceThroughBothFamiliesAndAV4MappedSocket()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        var web4 = new IPEndPoint(Vip(30), 80);
        var dns4 = new IPEndPoint(Vip(31), 53);
        SandboxBackend[] ipv4Backends = [sandbox.Backend("b1")];
        SandboxBackend[] ipv6Backends = [sandbox.Backend("b2"), sandbox.Backend("b3")];
        datapath.Writer.Apply(Upsert(
            Tcp(web4.Address, 80, ipv4Backends), Tcp6(Web6.Address, 80, ipv6Backends),
            Udp(dns4.Address, 53, ipv4Backends)));

        IReadOnlyList<PeerAttempt> viaIpv4 = await sandbox.TcpConnectAsync(web4, count: 10);
        IReadOnlyList<PeerAttempt> viaIpv6 = await sandbox.TcpConnectAsync(Web6, count: 30);
        IReadOnlyList<PeerAttempt> viaMapped = await sandbox.TcpConnectAsync(Mapped(web4), count: 10);
        // Unconnected: the kernel hands a send to ::ffff:a.b.c.d to sendmsg4; recvmsg6 must still show the frontend.
        IReadOnlyList<PeerAttempt> udpMapped = await sandbox.UdpSendToAsync(Mapped(dns4), count: 5);
        IReadOnlyList<PeerAttempt> udpMappedConnected = await sandbox.UdpConnectedAsync(Mapped(dns4), count: 5);

        Assert.All(viaIpv4, a => { Assert.True(a.Ok, a.ToString()); Assert.Equal("b1", a.Backend); Assert.Equal(web4, a.PeerEndPoint); });
        Assert.All(viaIpv6, a => { Assert.True(a.Ok, a.ToString()); Assert.Contains(a.Backend, new[] { "b2", "b3" }); Assert.Equal(Web6, a.PeerEndPoint); });
        Assert.All(viaMapped, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal("b1", a.Backend);
            Assert.Equal(Mapped(web4), a.PeerEndPoint); // getpeername6 of a mapped socket: the mapped frontend
        });
        Assert.All(udpMapped.Concat(udpMappedConnected), a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal("b1", a.Backend);
            Assert.Equal(dns4, Unmapped(a.FromEndPoint!));
        });
    }
}
