using System.Globalization;
using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Status;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Affinity;

/// <summary>
/// sessionAffinity: ClientIP through the lb_affinity map: a client (a network namespace) keeps its backend per frontend
/// across connects and datagrams, chooses again after the timeout or when its backend leaves, and two clients choose
/// independently. Where a claim is statistical, it is made over many frontends at once so that a wrong pass needs
/// odds of about one in a million, and the connects stay few: these also run in the 5.10 and 6.1 guests.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class SessionAffinityTests(ITestOutputHelper output)
{
    /// <summary>Frontends for the statistical claims: with 3 backends, 12 independent choices all equal by chance is (1/3)^12, 1.9e-6.</summary>
    private const int Frontends = 12;

    private static readonly IPEndPoint Web = new(Vip(10), 80);
    private static readonly IPEndPoint Dns = new(Vip(53), 53);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task AClientKeepsItsBackendAcrossTcpConnectsAndUnconnectedDatagrams()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(
            ClientIp(Tcp(Web.Address, 80, sandbox.Backends), 10800),
            ClientIp(Udp(Dns.Address, 53, sandbox.Backends), 10800)));

        IReadOnlyList<PeerAttempt> connects = await ClientAsync(sandbox, "tcp-connect", Web, 50);
        // Each datagram from a fresh socket: without affinity the socket cookies would scatter them over the backends.
        IReadOnlyList<PeerAttempt> datagrams = await ClientAsync(sandbox, "udp-sendto", Dns, 30);

        Assert.Single(OneBackendEach(connects, 50));
        Assert.Single(OneBackendEach(datagrams, 30));
        Assert.All(datagrams, a => Assert.Equal(Dns, a.FromEndPoint));
        DatapathStatus status = datapath.ReadStatus();
        Assert.All(status.Frontends, f => Assert.Equal(10800u, f.AffinityTimeoutSeconds));
        MapUsage affinity = Assert.Single(status.Maps, m => m.Name == MapNames.Affinity);
        Assert.Equal(2, affinity.Entries); // one client, two frontends
    }

    [SkippableFact]
    public async Task TwoPodsChooseIndependentlyAndEachKeepsItsChoice()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        string secondPod = await sandbox.AddSecondClientNamespaceAsync();
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        IPEndPoint[] frontends = AffineFrontends(datapath, sandbox, timeoutSeconds: 10800);

        IReadOnlyList<string> first = OneBackendEach(await ConnectEachAsync(sandbox, sandbox.ClientNamespace, frontends, 3), 3);
        IReadOnlyList<string> second = OneBackendEach(await ConnectEachAsync(sandbox, secondPod, frontends, 3), 3);
        IReadOnlyList<string> firstAgain = OneBackendEach(await ConnectEachAsync(sandbox, sandbox.ClientNamespace, frontends, 1), 1);

        _log.Write($"first pod {string.Join(",", first)}; second pod {string.Join(",", second)}");
        Assert.Equal(first, firstAgain); // the second pod's choices did not overwrite the first's
        // One shared entry per frontend would make the two lists equal; independent choices differ somewhere
        // except with probability (1/3)^12.
        Assert.NotEqual(first, second);
    }

    [SkippableFact]
    public async Task AClientChoosesAgainAfterTheTimeout()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        IPEndPoint[] frontends = AffineFrontends(datapath, sandbox, timeoutSeconds: 2);

        IReadOnlyList<string> before = OneBackendEach(await ConnectEachAsync(sandbox, sandbox.ClientNamespace, frontends, 3), 3);
        // The entry lives 2 s after its last use, plus at most an eighth of that (the refresh step): 3 s is past both.
        await Task.Delay(TimeSpan.FromSeconds(3));
        IReadOnlyList<string> after = OneBackendEach(await ConnectEachAsync(sandbox, sandbox.ClientNamespace, frontends, 3), 3);

        _log.Write($"before {string.Join(",", before)}; after {string.Join(",", after)}");
        // Expired entries mean fresh choices: all 12 equal to the old ones only with probability (1/3)^12.
        Assert.NotEqual(before, after);
    }

    [SkippableFact]
    public async Task AnAffineBackendThatLeavesIsNeverChosenAgain()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 4, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        SandboxBackend[] initial = [.. sandbox.Backends.Take(3)];
        datapath.Writer.Apply(Upsert(ClientIp(Tcp(Web.Address, 80, initial), 10800)));
        string affine = Assert.Single(OneBackendEach(await ClientAsync(sandbox, "tcp-connect", Web, 10), 10));

        // The affine backend leaves and b4 joins: its slot now holds another backend (b4 takes the last slot, the
        // others move up), which the program must notice by the backend id, not trust by the slot.
        SandboxBackend[] replaced = [.. sandbox.Backends.Where(b => b.Name != affine)];
        datapath.Writer.Apply(Upsert(ClientIp(Tcp(Web.Address, 80, replaced), 10800)));
        IReadOnlyList<PeerAttempt> after = await ClientAsync(sandbox, "tcp-connect", Web, 30);

        string next = Assert.Single(OneBackendEach(after, 30)); // a new choice, kept like the first one
        Assert.NotEqual(affine, next);
    }

    [SkippableFact]
    public async Task Ipv6AndV4MappedClientsKeepTheirBackend()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        var web6 = new IPEndPoint(Vip6(0x10), 80);
        var dns6 = new IPEndPoint(Vip6(0x53), 53);
        datapath.Writer.Apply(Upsert(
            ClientIp(Tcp6(web6.Address, 80, sandbox.Backends), 10800),
            ClientIp(Udp6(dns6.Address, 53, sandbox.Backends), 10800),
            ClientIp(Tcp(Web.Address, 80, sandbox.Backends), 10800)));

        IReadOnlyList<PeerAttempt> connects6 = await ClientAsync(sandbox, "tcp-connect", web6, 30);
        IReadOnlyList<PeerAttempt> datagrams6 = await ClientAsync(sandbox, "udp-sendto", dns6, 20);
        // An AF_INET6 socket naming the IPv4 frontend goes through the IPv4 core and its affinity.
        IReadOnlyList<PeerAttempt> mapped = await ClientAsync(sandbox, "tcp-connect", Mapped(Web), 30);

        Assert.Single(OneBackendEach(connects6, 30));
        Assert.Single(OneBackendEach(datagrams6, 20));
        Assert.Single(OneBackendEach(mapped, 30));
    }

    private static LoadBalancerService ClientIp(LoadBalancerService service, uint timeoutSeconds) =>
        service with { Flags = service.Flags | ServiceFlags.Affinity, AffinityTimeoutSeconds = timeoutSeconds };

    /// <summary><see cref="Frontends"/> affine TCP frontends 198.51.100.100.. on port 80, each over every backend.</summary>
    private static IPEndPoint[] AffineFrontends(LoadBalancerDatapath datapath, KernelSandbox sandbox, uint timeoutSeconds)
    {
        IPEndPoint[] frontends = [.. Enumerable.Range(100, Frontends).Select(i => new IPEndPoint(Vip(i), 80))];
        var applied = datapath.Writer.Apply(Upsert([.. frontends.Select(f => ClientIp(Tcp(f.Address, 80, sandbox.Backends), timeoutSeconds))]));
        Assert.True(applied.AllApplied, "every frontend is written");
        return frontends;
    }

    /// <summary>
    /// Per attempt 10 s instead of the peer's 2 s: an attempt that times out says nothing about affinity, and the
    /// first connect of a cold peer under emulation (the 5.10 and 6.1 guests) can take longer than 2 s.
    /// </summary>
    private const string AttemptTimeoutMs = "10000";

    private static Task<IReadOnlyList<PeerAttempt>> ClientAsync(KernelSandbox sandbox, string command, IPEndPoint to, int count) =>
        ClientInAsync(sandbox, sandbox.ClientNamespace, command, [to], count);

    /// <summary>One client process in <paramref name="clientNamespace"/>: <paramref name="count"/> connects to each frontend in turn.</summary>
    private static Task<IReadOnlyList<PeerAttempt>> ConnectEachAsync(KernelSandbox sandbox, string clientNamespace, IPEndPoint[] frontends, int count) =>
        ClientInAsync(sandbox, clientNamespace, "tcp-connect", frontends, count);

    private static async Task<IReadOnlyList<PeerAttempt>> ClientInAsync(
        KernelSandbox sandbox, string clientNamespace, string command, IEnumerable<IPEndPoint> targets, int count) =>
        PeerAttempt.ParseLines(await sandbox.RunClientInAsync(clientNamespace,
            [command, "--to", string.Join(",", targets.Select(f => f.ToString())), "--count", count.ToString(CultureInfo.InvariantCulture),
             "--timeout-ms", AttemptTimeoutMs],
            ClientPlacement.InCgroup));

    /// <summary>
    /// Asserts every attempt succeeded and each run of <paramref name="perFrontend"/> attempts (one frontend) reached one
    /// backend; returns that backend per frontend.
    /// </summary>
    private static IReadOnlyList<string> OneBackendEach(IReadOnlyList<PeerAttempt> attempts, int perFrontend)
    {
        Assert.All(attempts, a => Assert.True(a.Ok, a.ToString()));
        Assert.Equal(0, attempts.Count % perFrontend);
        var chosen = new List<string>();
        foreach (PeerAttempt[] run in attempts.Chunk(perFrontend))
        {
            string[] backends = [.. run.Select(a => a.Backend!).Distinct()];
            Assert.True(backends.Length == 1, $"one frontend reached {string.Join(", ", backends)}: affinity did not hold");
            chosen.Add(backends[0]);
        }
        return chosen;
    }
}
