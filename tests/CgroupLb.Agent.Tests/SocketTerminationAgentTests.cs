using System.Diagnostics;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// The agent wires socket termination to its syncer: with --bpf-lb-sock-terminate-pod-connections, a TCP connection
/// the agent balanced to a backend is aborted once a manifest edit removes that backend, while a connection made
/// straight to the same pod address is left alone.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class SocketTerminationAgentTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-sockterm-");

    private string ManifestFile => Path.Combine(manifests.FullName, "web.yaml");

    [SkippableFact]
    public async Task AManifestEditThatRemovesABackendAbortsTheConnectionsBalancedToIt()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: log.Write);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        var web = new WebManifest("web", WebManifest.Vip(41), [b1.Address], SandboxBackend.TcpPort);
        web.WriteTo(ManifestFile);

        await using AgentProcess agent = AgentProcess.Start(
            ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1",
             "--bpf-lb-sock-terminate-pod-connections"], log.Write);
        await agent.WaitReadyAsync();
        await agent.WaitForLogAsync(l => l.Contains("Socket termination: bpf_sock_destroy iterators close connected UDP and TCP", StringComparison.Ordinal),
            "the socket termination method");

        using HeldClient viaService = HeldClient.Start(sandbox, "tcp-hold", web.Frontend.ToString());
        using HeldClient direct = HeldClient.Start(sandbox, "tcp-hold", b1.TcpEndPoint.ToString());
        // Both have read their backend's name; only then may the edit come.
        await Task.WhenAll(viaService.WaitReadyAsync(SandboxTimeouts.Seconds(20)), direct.WaitReadyAsync(SandboxTimeouts.Seconds(20)));
        Assert.True((await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend)?.Counters.Translated >= 1, "the held connection was not translated");

        long editedAt = Stopwatch.GetTimestamp();
        (web with { Endpoints = [b2.Address] }).WriteTo(ManifestFile);
        await agent.WaitForLogAsync(l => l.Contains("closed 1 sockets", StringComparison.Ordinal), "the termination pass");
        await viaService.WaitForAsync(run => run.SocketErrors.Any(), SandboxTimeouts.Seconds(20), "a socket error");

        HoldRun held = await viaService.StopAsync(), untouched = await direct.StopAsync();
        log.Write($"via the service:\n{held}\ndirect to b1:\n{untouched}");
        Assert.Contains(held.Replies, e => e.Backend == "b1");
        HoldRun.Event aborted = Assert.Single(held.SocketErrors);
        Assert.Equal("ECONNABORTED", aborted.Error);
        Assert.True(aborted.T > editedAt);
        Assert.Empty(untouched.SocketErrors);

        Assert.Equal(0, await agent.TerminateAsync());
    }

    public void Dispose() => manifests.Delete(recursive: true);
}
