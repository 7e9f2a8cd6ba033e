using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Termination;
using CgroupLb.Interop;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.Sandbox;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>
/// lb6_sk_claim, the IPv6 twin of lb4_sk_claim (bpf/lib/sock_claim.h), made to collide as the IPv4 test does
/// (<see cref="Ipv4.SocketClaimTests"/>): two entries, five TCP sockets to an IPv6 frontend held open. Every socket shows
/// the frontend to getpeername() and is closed with its backend, whether it claimed or kept its entry in socket
/// storage; closed holders' entries are taken over. A v4-mapped peer's entry is the IPv4 core's: it claims in
/// lb4_sk_claim, never here. Before 6.2 nothing claims, and the same sockets behave the same from socket storage.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6SocketClaimTests(ITestOutputHelper output)
{
    private const uint Slots = 2;
    private const int Held = 5;
    private static readonly IPEndPoint Web6 = new(Vip6(0x10), 80);
    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(20);
    private readonly TestOutputLog _log = new(output);

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MoreHeldIpv6SocketsThanEntriesAllShowTheFrontendAndAreAllClosedWithTheirBackend(bool forceNetlink)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        DatapathOptions options = sandbox.DatapathOptions() with { SocketClaimSlots = Slots };
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log);
        bool claims = datapath.Features?.SocketClaims ?? throw new InvalidOperationException("a fresh attach must report whether it claims");
        _log.Write($"claims: {claims}");
        datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, [b1])));
        using SocketTerminator terminator = SocketTerminator.Open(new SocketTerminationOptions(sandbox.CgroupPath, sandbox.BpffsPath)
        {
            ForceNetlink = forceNetlink,
            TerminateTcp = true,
        }, ((ILoggerFactory)_log).CreateLogger("SocketTermination"));

        var clients = new List<HeldClient>();
        try
        {
            for (int i = 0; i < Held; i++)
            {
                var client = HeldClient.Start(sandbox, "tcp-hold", Web6.ToString());
                clients.Add(client);
                await client.WaitReadyAsync(ClientsStart);
            }
            foreach (HeldClient client in clients)
            {
                HoldRun.Event connected = Assert.Single(client.EventsSoFar().Events, e => e.Kind == "connected");
                Assert.Equal(Web6.ToString(), connected.Peer);
            }

            Lb6SkClaim[] claimed = ClaimedEntries6(options);
            _log.Write($"claimed entries: {string.Join(", ", claimed.Select(e => $"cookie {e.Cookie} service {e.ServiceId}"))}");
            if (claims)
            {
                Assert.Equal((int)Slots, claimed.Length);
                Assert.All(claimed, e =>
                {
                    Assert.Equal(0UL, e.Cookie & Lb4SkClaim.Writing);
                    Assert.Equal(b1.Address6, e.BackendAddress.Address);
                    Assert.Equal(Web6.Address, e.FrontendAddress.Address);
                });
            }
            else
            {
                Assert.Empty(claimed);
            }
            Assert.Empty(Ipv4.SocketClaimTests.ClaimedEntries(options));

            datapath.Writer.Apply(Upsert(Tcp6(Web6.Address, 80, [b2])));
            SocketTerminationResult result = terminator.Terminate(
                [new RemovedBackend(new Frontend(Web6.Address, (ushort)Web6.Port, L4Protocol.Tcp), new Backend(b1.Address6, SandboxBackend.TcpPort, L4Protocol.Tcp))]);
            _log.Write($"terminate ({terminator.Method}): {result}");
            Assert.Equal(Held, result.Closed);
            foreach (HeldClient client in clients)
                await client.WaitForAsync(run => run.SocketErrors.Any(), ClientsStart, "the abort");
        }
        finally
        {
            foreach (HeldClient client in clients)
                await client.StopAsync();
            foreach (HeldClient client in clients)
                client.Dispose();
        }

        IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(Web6, count: 10);
        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal(Web6, a.PeerEndPoint);
            Assert.Equal("b2", a.Backend);
        });
        if (claims)
            Assert.All(ClaimedEntries6(options), e => Assert.Equal(b2.Address6, e.BackendAddress.Address));
    }

    /// <summary>A connected UDP socket to an IPv6 frontend claims in lb6_sk_claim; its replies come from the frontend.</summary>
    [SkippableFact]
    public async Task AConnectedIpv6UdpSocketClaimsAndItsRepliesComeFromTheFrontend()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write, ipv6: true);
        SandboxBackend b1 = sandbox.Backend("b1");
        var dns6 = new IPEndPoint(Vip6(0x53), 53);
        DatapathOptions options = sandbox.DatapathOptions();
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log);
        datapath.Writer.Apply(Upsert(Udp6(dns6.Address, 53, [b1])));

        using HeldClient client = HeldClient.Start(sandbox, "udp-hold", dns6.ToString());
        await client.WaitReadyAsync(ClientsStart);
        Lb6SkClaim[] claimed = ClaimedEntries6(options);
        HoldRun run = await client.StopAsync();
        _log.Write($"claims: {datapath.Features?.SocketClaims}; entries: {claimed.Length}\n{run}");

        Assert.Equal(dns6.ToString(), Assert.Single(run.Events, e => e.Kind == "connected").Peer);
        Assert.Contains(run.Replies, e => e.Backend == "b1");
        Assert.Empty(run.SocketErrors);
        if (datapath.Features?.SocketClaims == true)
        {
            Lb6SkClaim entry = Assert.Single(claimed);
            Assert.Equal(b1.Address6, entry.BackendAddress.Address);
            Assert.Equal(dns6.Address, entry.FrontendAddress.Address);
        }
        else
        {
            Assert.Empty(claimed);
        }
        Assert.True(datapath.ReadStatus().Frontends.Single().Counters.ReverseTranslated >= 2, "getpeername and the reply were not reverse-translated");
    }

    /// <summary>A v4-mapped peer of an AF_INET6 socket is the IPv4 core's: its claim is in lb4_sk_claim, not lb6_sk_claim.</summary>
    [SkippableFact]
    public async Task AV4MappedPeerClaimsInTheIpv4Array()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write, ipv6: true);
        SandboxBackend b1 = sandbox.Backend("b1");
        var web = new IPEndPoint(Vip(80), 80);
        DatapathOptions options = sandbox.DatapathOptions();
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log);
        datapath.Writer.Apply(Upsert(Tcp(web.Address, 80, [b1])));

        using HeldClient client = HeldClient.Start(sandbox, "tcp-hold", Mapped(web).ToString());
        await client.WaitReadyAsync(ClientsStart);
        Lb4SkClaim[] claimed4 = Ipv4.SocketClaimTests.ClaimedEntries(options);
        Lb6SkClaim[] claimed6 = ClaimedEntries6(options);
        HoldRun run = await client.StopAsync();
        _log.Write($"claims: {datapath.Features?.SocketClaims}; lb4 entries {claimed4.Length}, lb6 entries {claimed6.Length}\n{run}");

        Assert.Equal(web, Unmapped(IPEndPoint.Parse(Assert.Single(run.Events, e => e.Kind == "connected").Peer!)));
        Assert.Empty(claimed6);
        Assert.Equal(datapath.Features?.SocketClaims == true ? 1 : 0, claimed4.Length);
    }

    /// <summary>The entries of lb6_sk_claim that some socket ever claimed.</summary>
    internal static Lb6SkClaim[] ClaimedEntries6(DatapathOptions options)
    {
        using var map = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.SocketClaims6));
        var entries = new List<Lb6SkClaim>();
        for (uint i = 0; i < map.Info.MaxEntries; i++)
        {
            if (map.TryLookup(i, out Lb6SkClaim entry) && entry.Cookie != 0)
                entries.Add(entry);
        }
        return [.. entries];
    }
}
