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

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// Connected sockets' reverse entries in lb4_sk_claim (bpf/lib/sock_claim.h), TCP ones made to collide: an array of two
/// entries and more sockets held open than it holds. Every socket must still show the frontend to getpeername() and
/// be found by the socket terminator, whether it claimed an entry or, finding a live owner, kept its entry in socket
/// storage; once the holders are closed, new sockets take their entries over. On kernels without the
/// bpf_rdonly_cast kfunc (before 6.2) nothing claims, and the same sockets must behave the same from socket storage.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class SocketClaimTests(ITestOutputHelper output)
{
    private const uint Slots = 2;
    private const int Held = 5;
    private static readonly IPEndPoint Web = new(Vip(80), 80);
    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(20);
    private readonly TestOutputLog _log = new(output);

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MoreHeldSocketsThanEntriesAllShowTheFrontendAndAreAllClosedWithTheirBackend(bool forceNetlink)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        DatapathOptions options = sandbox.DatapathOptions() with { SocketClaimSlots = Slots };
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log);
        bool claims = datapath.Features?.SocketClaims ?? throw new InvalidOperationException("a fresh attach must report whether it claims");
        Assert.Equal(EmbeddedObject.KernelBtfObjectSuits, claims);
        _log.Write($"claims: {claims}");
        datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b1])));
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
                var client = HeldClient.Start(sandbox, "tcp-hold", Web.ToString());
                clients.Add(client);
                await client.WaitReadyAsync(ClientsStart);
            }
            foreach (HeldClient client in clients)
            {
                HoldRun.Event connected = Assert.Single(client.EventsSoFar().Events, e => e.Kind == "connected");
                Assert.Equal(Web.ToString(), connected.Peer);
            }

            Lb4SkClaim[] claimed = ClaimedEntries(options);
            _log.Write($"claimed entries: {string.Join(", ", claimed.Select(e => $"cookie {e.Cookie} service {e.ServiceId}"))}");
            if (claims)
            {
                // Both entries taken by live sockets; the three later sockets found them taken and used socket storage.
                Assert.Equal((int)Slots, claimed.Length);
                Assert.All(claimed, e =>
                {
                    Assert.Equal(0UL, e.Cookie & Lb4SkClaim.Writing);
                    Assert.Equal(b1.Address, new IPAddress(e.BackendAddressBe));
                    Assert.Equal(Web.Address, new IPAddress(e.FrontendAddressBe));
                });
            }
            else
            {
                Assert.Empty(claimed);
            }

            datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b2])));
            SocketTerminationResult result = terminator.Terminate(
                [new RemovedBackend(new Frontend(Web.Address, (ushort)Web.Port, L4Protocol.Tcp), new Backend(b1.Address, SandboxBackend.TcpPort, L4Protocol.Tcp))]);
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
        IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(Web, count: 10);
        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal(Web, a.PeerEndPoint);
            Assert.Equal("b2", a.Backend);
        });
        if (claims)
            Assert.All(ClaimedEntries(options), e => Assert.Equal(b2.Address, new IPAddress(e.BackendAddressBe)));
    }

    /// <summary>
    /// A connected UDP socket (a resolver connects one per query) claims too: its entry, not socket storage, shows the
    /// frontend to getpeername() and as the source of the backend's replies.
    /// </summary>
    [SkippableFact]
    public async Task AConnectedUdpSocketClaimsAndItsRepliesComeFromTheFrontend()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        SandboxBackend b1 = sandbox.Backend("b1");
        var dns = new IPEndPoint(Vip(53), 53);
        DatapathOptions options = sandbox.DatapathOptions();
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log);
        datapath.Writer.Apply(Upsert(Udp(dns.Address, 53, [b1])));

        using HeldClient client = HeldClient.Start(sandbox, "udp-hold", dns.ToString());
        // The first reply passed recvmsg4: udp-hold reads it with recvfrom() from the connected peer.
        await client.WaitReadyAsync(ClientsStart);
        Lb4SkClaim[] claimed = ClaimedEntries(options);
        HoldRun run = await client.StopAsync();
        _log.Write($"claims: {datapath.Features?.SocketClaims}; entries: {claimed.Length}\n{run}");

        Assert.Equal(dns.ToString(), Assert.Single(run.Events, e => e.Kind == "connected").Peer);
        Assert.Contains(run.Replies, e => e.Backend == "b1");
        Assert.Empty(run.SocketErrors);
        if (datapath.Features?.SocketClaims == true)
        {
            Lb4SkClaim entry = Assert.Single(claimed);
            Assert.Equal(b1.Address, new IPAddress(entry.BackendAddressBe));
            Assert.Equal(dns.Address, new IPAddress(entry.FrontendAddressBe));
        }
        else
        {
            Assert.Empty(claimed);
        }
        Assert.True(datapath.ReadStatus().Frontends.Single().Counters.ReverseTranslated >= 2, "getpeername and the reply were not reverse-translated");
    }

    /// <summary>The entries of lb4_sk_claim that some socket ever claimed.</summary>
    internal static Lb4SkClaim[] ClaimedEntries(DatapathOptions options)
    {
        using var map = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.SocketClaims));
        var entries = new List<Lb4SkClaim>();
        for (uint i = 0; i < map.Info.MaxEntries; i++)
        {
            if (map.TryLookup(i, out Lb4SkClaim entry) && entry.Cookie != 0)
                entries.Add(entry);
        }
        return [.. entries];
    }
}
