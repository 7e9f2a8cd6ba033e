using System.Net;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Kernel.Tests;

/// <summary>
/// The harness itself, without any BPF: backends are reachable at their own addresses, service addresses are not,
/// and a sandbox leaves nothing behind. If these fail, the datapath tests' verdicts mean nothing.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class SandboxTests(ITestOutputHelper output)
{
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task ClientReachesEachBackendAtItsOwnAddressOverTcpAndUdp()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);

        foreach (SandboxBackend backend in sandbox.Backends)
        {
            IReadOnlyList<PeerAttempt> tcp = await sandbox.TcpConnectAsync(backend.TcpEndPoint, count: 3);
            Assert.Equal(3, tcp.Count);
            Assert.All(tcp, a =>
            {
                Assert.True(a.Ok, a.ToString());
                Assert.Equal(backend.Name, a.Backend);
                Assert.Equal(backend.TcpEndPoint, a.PeerEndPoint);
            });

            PeerAttempt udp = Assert.Single(await sandbox.UdpSendToAsync(backend.UdpEndPoint));
            Assert.True(udp.Ok, udp.ToString());
            Assert.Equal(backend.Name, udp.Backend);
            Assert.Equal(backend.UdpEndPoint, udp.FromEndPoint);
        }
    }

    [SkippableFact]
    public async Task ServiceAddressIsUnreachableWithoutALoadBalancer()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);

        PeerAttempt attempt = Assert.Single(await sandbox.TcpConnectAsync(new IPEndPoint(IPAddress.Parse("198.51.100.10"), 80)));

        Assert.False(attempt.Ok);
        Assert.Equal("ENETUNREACH", attempt.Error);
    }

    [SkippableFact]
    public async Task DisposeRemovesCgroupPinsNamespacesAndBackendProcesses()
    {
        KernelTestGate.Require();
        KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write);
        string[] namespaces = [sandbox.ClientNamespace, .. sandbox.Backends.Select(b => b.Namespace)];
        int[] backendPids = sandbox.Backends.Select(b => b.ProcessId!.Value).ToArray();
        Directory.CreateDirectory(Path.Combine(sandbox.BpffsPath, "nested"));

        await sandbox.DisposeAsync();

        Assert.False(Directory.Exists(sandbox.CgroupPath), sandbox.CgroupPath);
        Assert.False(Directory.Exists(sandbox.BpffsPath), sandbox.BpffsPath);
        string listed = (await HostCommand.RunCheckedAsync("ip", "netns", "list")).Stdout;
        Assert.All(namespaces, ns => Assert.DoesNotContain(ns, listed, StringComparison.Ordinal));
        Assert.All(backendPids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"backend pid {pid} still runs"));
    }

    [SkippableFact]
    public async Task JanitorRemovesLeftoversOfDeadRunsAndKeepsLiveSandboxes()
    {
        KernelTestGate.Require();
        // Above PID_MAX_LIMIT (2^22), so no process can have it: the owner of these names is certainly gone.
        const int deadOwner = 4_194_399;
        string stem = $"{SandboxNames.Prefix}{deadOwner}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..3])}";
        string staleCgroup = Path.Combine(SandboxNames.CgroupRoot, stem);
        string staleBpffs = Path.Combine(SandboxNames.BpffsRoot, stem);
        string staleNamespace = stem + "-c";
        Directory.CreateDirectory(staleCgroup);
        Directory.CreateDirectory(staleBpffs);
        await HostCommand.RunCheckedAsync("ip", "netns", "add", staleNamespace);
        await using KernelSandbox live = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);

        SandboxJanitor.Sweep sweep = await SandboxJanitor.SweepAsync();

        _log.Write("janitor removed: " + string.Join(", ", sweep.Removed));
        Assert.Empty(sweep.Failed);
        Assert.Contains(staleCgroup, sweep.Removed);
        Assert.False(Directory.Exists(staleCgroup));
        Assert.False(Directory.Exists(staleBpffs));
        Assert.DoesNotContain(staleNamespace, (await HostCommand.RunCheckedAsync("ip", "netns", "list")).Stdout, StringComparison.Ordinal);
        Assert.True(Directory.Exists(live.CgroupPath));
        Assert.True(Directory.Exists(live.BpffsPath));
        PeerAttempt stillServing = Assert.Single(await live.TcpConnectAsync(live.Backends[0].TcpEndPoint));
        Assert.True(stillServing.Ok, stillServing.ToString());
    }
}
