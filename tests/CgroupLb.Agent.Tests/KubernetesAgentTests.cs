using System.Net;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing;
using CgroupLb.Testing.FakeApi;
using CgroupLb.Testing.Sandbox;
using k8s.Models;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// `cgroup-lb run --kubeconfig FILE` as a process, following the fake API server, against the kernel sandbox: ready
/// after the initial lists, API changes reach the kernel, and an API server that is down never makes the agent
/// remove what an earlier run programmed.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class KubernetesAgentTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-manifests-");
    private readonly DirectoryInfo state = Directory.CreateTempSubdirectory("cglb-agent-state-");

    [SkippableFact]
    public async Task ServicesCreatedChangedAndDeletedThroughTheApiReachTheKernel()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 3, log: log.Write);
        await using FakeApiServer server = await FakeApiServer.StartNewAsync();
        using KubeconfigFile kubeconfig = KubeconfigFile.Write(server.Host);
        var web = new WebManifest("web", WebManifest.Vip(50), [.. sandbox.Backends.Select(b => b.Address)], SandboxBackend.TcpPort);

        await using AgentProcess agent = AgentProcess.Start(RunArguments(sandbox, kubeconfig), log.Write);
        await agent.WaitReadyAsync();
        Assert.Empty((await AgentCli.StatusAsync(sandbox.BpffsPath)).Frontends);

        server.Upsert(web.ApiService());
        server.Upsert(web.ApiEndpointSlice());
        await Eventually.MatchAsync(() => AgentCli.StatusAsync(sandbox.BpffsPath),
            s => s.Find(web.Frontend)?.Backends.Count == 3, "the service with 3 backends in the maps");
        IReadOnlyList<string> reached = await sandbox.ConnectAllAsync(web.Frontend, 30);
        Assert.Subset(sandbox.Backends.Names().ToHashSet(), reached.ToHashSet());

        var withoutB2 = web with { Endpoints = [sandbox.Backend("b1").Address, sandbox.Backend("b3").Address] };
        server.Upsert(withoutB2.ApiEndpointSlice());
        await Eventually.MatchAsync(() => AgentCli.StatusAsync(sandbox.BpffsPath),
            s => s.Find(web.Frontend)?.Backends.Count == 2, "b2 removed from the maps");
        Assert.DoesNotContain("b2", await sandbox.ConnectAllAsync(web.Frontend, 30));

        Assert.True(server.Delete<V1Service>("default", web.Name));
        await Eventually.MatchAsync(() => AgentCli.StatusAsync(sandbox.BpffsPath),
            s => s.Frontends.Count == 0, "the service removed from the maps");
        await sandbox.AssertUnreachableAsync(web.Frontend);

        Assert.Equal(0, await agent.TerminateAsync());
    }

    [SkippableFact]
    public async Task WithTheApiServerDownTheAgentKeepsWhatAnEarlierRunProgrammedUntilItCanList()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 3, log: log.Write);
        var earlier = new WebManifest("old", WebManifest.Vip(51), [sandbox.Backend("b1").Address, sandbox.Backend("b2").Address], SandboxBackend.TcpPort);
        var current = new WebManifest("web", WebManifest.Vip(52), [sandbox.Backend("b3").Address], SandboxBackend.TcpPort);

        // An earlier run on manifests programs a service and stops, leaving it in place.
        earlier.WriteTo(Path.Combine(manifests.FullName, "old.yaml"));
        await using (AgentProcess first = AgentProcess.Start(
            ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1"], log.Write))
        {
            await first.WaitReadyAsync();
            Assert.Equal(0, await first.TerminateAsync());
        }
        AgentStatus.FrontendEntry pinned = Assert.Single((await AgentCli.StatusAsync(sandbox.BpffsPath)).Frontends);

        // The API server holds a different service but is not listening yet.
        await using FakeApiServer server = FakeApiServer.CreateStopped();
        server.Upsert(current.ApiService());
        server.Upsert(current.ApiEndpointSlice());
        using KubeconfigFile kubeconfig = KubeconfigFile.Write(server.Host);

        await using AgentProcess agent = AgentProcess.Start(RunArguments(sandbox, kubeconfig), log.Write);
        await agent.WaitForLogAsync(l => l.Contains("Data path adopted", StringComparison.Ordinal), "the adoption");
        // Long enough for several failed list attempts (the reflector's backoff starts at 250 ms).
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await agent.ReadyzAsync());
        AgentStatus.FrontendEntry stillPinned = Assert.Single((await AgentCli.StatusAsync(sandbox.BpffsPath)).Frontends);
        Assert.Equal(pinned.Id, stillPinned.Id);
        Assert.Equal(pinned.Backends, stillPinned.Backends);
        Assert.DoesNotContain("b3", await sandbox.ConnectAllAsync(earlier.Frontend, 10));
        await sandbox.AssertUnreachableAsync(current.Frontend);

        await server.StartAsync();
        await agent.WaitReadyAsync(TimeSpan.FromSeconds(60));
        AgentStatus converged = await Eventually.MatchAsync(() => AgentCli.StatusAsync(sandbox.BpffsPath),
            s => s.Frontends.Count == 1 && s.Find(current.Frontend) is not null, "only the API's service in the maps");
        Assert.Equal(["198.18.3.2"], converged.Find(current.Frontend)!.BackendAddresses);
        Assert.Equal(["b3", "b3", "b3", "b3", "b3"], await sandbox.ConnectAllAsync(current.Frontend, 5));
        await sandbox.AssertUnreachableAsync(earlier.Frontend);

        Assert.Equal(0, await agent.TerminateAsync());
    }

    [SkippableFact]
    public async Task ARestartedAgentWhoseApiAddressIsStaleListsThroughTheAddressSavedFromTheKubernetesSlice()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        await using FakeApiServer server = await FakeApiServer.StartNewAsync();
        var web = new WebManifest("web", WebManifest.Vip(53), [sandbox.Backend("b1").Address], SandboxBackend.TcpPort);
        server.Upsert(web.ApiService());
        server.Upsert(web.ApiEndpointSlice());
        // The API server's own slice, as the API server publishes it: here, the fake server's real address.
        var apiServer = new WebManifest("kubernetes", WebManifest.Vip(1), [IPAddress.Loopback], (ushort)server.Port).ApiEndpointSlice();
        apiServer.Ports.Single().Name = "https";
        server.Upsert(apiServer);
        string savedFile = Path.Combine(state.FullName, "apiserver-endpoints.json");

        // First run, through the configured address: it saves what the kubernetes slice says.
        using (KubeconfigFile reachable = KubeconfigFile.Write(server.Host))
        await using (AgentProcess first = AgentProcess.Start(RunArguments(sandbox, reachable), log.Write))
        {
            await first.WaitReadyAsync();
            await Eventually.MatchAsync(() => Task.FromResult(File.Exists(savedFile) ? File.ReadAllText(savedFile) : ""),
                text => text.Contains($"127.0.0.1:{server.Port}", StringComparison.Ordinal), "the API server address saved in the state directory");
            Assert.Equal(0, await first.TerminateAsync());
        }
        Assert.Empty(Directory.GetFiles(sandbox.BpffsPath, "*.json", SearchOption.AllDirectories));

        // The configured address goes stale (nothing answers on 127.0.0.2): the restarted agent still lists.
        var moved = web with { Endpoints = [sandbox.Backend("b1").Address], ClusterIp = WebManifest.Vip(54) };
        server.Upsert(moved.ApiService());
        using KubeconfigFile stale = KubeconfigFile.Write($"http://127.0.0.2:{server.Port}");
        await using AgentProcess agent = AgentProcess.Start(RunArguments(sandbox, stale), log.Write);
        await agent.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await agent.WaitForLogAsync(l => l.Contains($"connected to 127.0.0.1:{server.Port}", StringComparison.Ordinal), "the fallback to the saved address");
        await Eventually.MatchAsync(() => AgentCli.StatusAsync(sandbox.BpffsPath),
            s => s.Frontends.Count == 1 && s.Find(moved.Frontend) is not null, "the Service's new ClusterIP listed through the saved address");
        Assert.Equal(0, await agent.TerminateAsync());
    }

    private string[] RunArguments(KernelSandbox sandbox, KubeconfigFile kubeconfig) =>
        ["--kubeconfig", kubeconfig.Path, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1", "--state-dir", state.FullName];

    public void Dispose()
    {
        manifests.Delete(recursive: true);
        state.Delete(recursive: true);
    }
}
