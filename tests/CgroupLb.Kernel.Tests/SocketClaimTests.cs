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

namespace CgroupLb.Kernel.Tests;

/// <summary>
/// Connected sockets' reverse entries in lb4_sk_claim and lb6_sk_claim (bpf/lib/sock_claim.h), each test over IPv4 and
/// over IPv6. TCP entries are made to collide: arrays of two entries and more sockets held open than they hold. Every
/// socket must still show the frontend to getpeername() and be found by the socket terminator, whether it claimed an
/// entry or, finding a live owner, kept its entry in socket storage; once the holders are closed, new sockets take
/// their entries over. A socket claims only in its peer's family's array (a v4-mapped peer is the IPv4 core's). On
/// kernels without the bpf_rdonly_cast kfunc (before 6.2) nothing claims, and the same sockets must behave the same
/// from socket storage.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class SocketClaimTests(ITestOutputHelper output)
{
    private const uint Slots = 2;
    private const int Held = 5;
    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(20);
    private readonly TestOutputLog _log = new(output);

    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task MoreHeldSocketsThanEntriesAllShowTheFrontendAndAreAllClosedWithTheirBackend(bool ipv6, bool forceNetlink)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: ipv6);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        var web = new IPEndPoint(ipv6 ? Vip6(0x10) : Vip(80), 80);
        DatapathOptions options = sandbox.DatapathOptions() with { SocketClaimSlots = Slots };
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log);
        bool claims = datapath.Features?.SocketClaims ?? throw new InvalidOperationException("a fresh attach must report whether it claims");
        Assert.Equal(EmbeddedObject.KernelBtfObjectSuits, claims);
        _log.Write($"claims: {claims}");
        datapath.Writer.Apply(Upsert(WebService(ipv6, web, b1)));
        using SocketTerminator terminator = SocketTerminator.Open(new SocketTerminationOptions(sandbox.CgroupPath, sandbox.BpffsPath)
        {
            ForceNetlink = forceNetlink,
            TerminateTcp = true,
        }, ((ILoggerFactory)_log).CreateLogger("SocketTermination"));

        var clients = new List<HeldClient>();
        try
        {
            // One at a time, so each connect meets the entries the earlier ones hold.
            for (int i = 0; i < Held; i++)
            {
                var client = HeldClient.Start(sandbox, "tcp-hold", web.ToString());
                clients.Add(client);
                await client.WaitReadyAsync(ClientsStart);
            }
            foreach (HeldClient client in clients)
            {
                HoldRun.Event connected = Assert.Single(client.EventsSoFar().Events, e => e.Kind == "connected");
                Assert.Equal(web.ToString(), connected.Peer);
            }

            Claim[] claimed = ClaimedEntries(options, ipv6);
            _log.Write($"claimed entries: {string.Join(", ", claimed.Select(e => $"cookie {e.Cookie} service {e.ServiceId}"))}");
            if (claims)
            {
                // Both entries taken by live sockets; the three later sockets found them taken and used socket storage.
                Assert.Equal((int)Slots, claimed.Length);
                Assert.All(claimed, e =>
                {
                    Assert.Equal(0UL, e.Cookie & Lb4SkClaim.Writing);
                    Assert.Equal(ipv6 ? b1.Address6 : b1.Address, e.Backend);
                    Assert.Equal(web.Address, e.Frontend);
                });
            }
            else
            {
                Assert.Empty(claimed);
            }
            Assert.Empty(ClaimedEntries(options, !ipv6));

            datapath.Writer.Apply(Upsert(WebService(ipv6, web, b2)));
            SocketTerminationResult result = terminator.Terminate(
                [new RemovedBackend(new Frontend(web.Address, (ushort)web.Port, L4Protocol.Tcp), new Backend(ipv6 ? b1.Address6 : b1.Address, SandboxBackend.TcpPort, L4Protocol.Tcp))]);
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

        // The holders are closed: new sockets take their entries over, and see the frontend.
        IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(web, count: 10);
        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal(web, a.PeerEndPoint);
            Assert.Equal("b2", a.Backend);
        });
        if (claims)
            Assert.All(ClaimedEntries(options, ipv6), e => Assert.Equal(ipv6 ? b2.Address6 : b2.Address, e.Backend));
    }

    /// <summary>
    /// A connected UDP socket (a resolver connects one per query) claims too: its entry, not socket storage, shows the
    /// frontend to getpeername() and as the source of the backend's replies.
    /// </summary>
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AConnectedUdpSocketClaimsAndItsRepliesComeFromTheFrontend(bool ipv6)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write, ipv6: ipv6);
        SandboxBackend b1 = sandbox.Backend("b1");
        var dns = new IPEndPoint(ipv6 ? Vip6(0x53) : Vip(53), 53);
        DatapathOptions options = sandbox.DatapathOptions();
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log);
        datapath.Writer.Apply(Upsert(ipv6 ? Udp6(dns.Address, 53, [b1]) : Udp(dns.Address, 53, [b1])));

        using HeldClient client = HeldClient.Start(sandbox, "udp-hold", dns.ToString());
        // The first reply passed recvmsg4/6: udp-hold reads it with recvfrom() from the connected peer.
        await client.WaitReadyAsync(ClientsStart);
        Claim[] claimed = ClaimedEntries(options, ipv6);
        HoldRun run = await client.StopAsync();
        _log.Write($"claims: {datapath.Features?.SocketClaims}; entries: {claimed.Length}\n{run}");

        Assert.Equal(dns.ToString(), Assert.Single(run.Events, e => e.Kind == "connected").Peer);
        Assert.Contains(run.Replies, e => e.Backend == "b1");
        Assert.Empty(run.SocketErrors);
        if (datapath.Features?.SocketClaims == true)
        {
            Claim entry = Assert.Single(claimed);
            Assert.Equal(ipv6 ? b1.Address6 : b1.Address, entry.Backend);
            Assert.Equal(dns.Address, entry.Frontend);
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
        Claim[] claimed4 = ClaimedEntries(options, ipv6: false);
        Claim[] claimed6 = ClaimedEntries(options, ipv6: true);
        HoldRun run = await client.StopAsync();
        _log.Write($"claims: {datapath.Features?.SocketClaims}; lb4 entries {claimed4.Length}, lb6 entries {claimed6.Length}\n{run}");

        Assert.Equal(web, Unmapped(IPEndPoint.Parse(Assert.Single(run.Events, e => e.Kind == "connected").Peer!)));
        Assert.Empty(claimed6);
        Assert.Equal(datapath.Features?.SocketClaims == true ? 1 : 0, claimed4.Length);
    }

    /// <summary>One claimed entry of either array, as these tests look at it.</summary>
    internal sealed record Claim(ulong Cookie, IPAddress Backend, IPAddress Frontend, uint ServiceId);

    /// <summary>The entries of lb4_sk_claim (lb6_sk_claim with <paramref name="ipv6"/>) that some socket ever claimed.</summary>
    internal static Claim[] ClaimedEntries(DatapathOptions options, bool ipv6 = false)
    {
        using var map = BpfMapHandle.OpenPinned(options.MapPinPath(ipv6 ? MapNames.SocketClaims6 : MapNames.SocketClaims));
        var entries = new List<Claim>();
        for (uint i = 0; i < map.Info.MaxEntries; i++)
        {
            if (ipv6 && map.TryLookup(i, out Lb6SkClaim entry6) && entry6.Cookie != 0)
                entries.Add(new Claim(entry6.Cookie, entry6.BackendAddress.Address, entry6.FrontendAddress.Address, entry6.ServiceId));
            else if (!ipv6 && map.TryLookup(i, out Lb4SkClaim entry4) && entry4.Cookie != 0)
                entries.Add(new Claim(entry4.Cookie, new IPAddress(entry4.BackendAddressBe), new IPAddress(entry4.FrontendAddressBe), entry4.ServiceId));
        }
        return [.. entries];
    }

    private static LoadBalancerService WebService(bool ipv6, IPEndPoint web, SandboxBackend backend) =>
        ipv6 ? Tcp6(web.Address, 80, [backend]) : Tcp(web.Address, 80, [backend]);
}
