using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// `cgroup-lb run --source DIR` as a process against the kernel sandbox: a Service in a manifest becomes reachable,
/// edits take effect live, a bad edit keeps the last good state, SIGTERM leaves traffic flowing, a restart adopts the
/// maps without rewriting them, and `cgroup-lb detach` (or --detach-on-exit) removes everything.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class ManifestAgentTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-manifests-");

    private string ManifestFile => Path.Combine(manifests.FullName, "web.yaml");

    [SkippableFact]
    public async Task ManifestServiceLivesThroughEditsABadDocumentARestartAndADetach()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 3, log: log.Write);
        var web = new WebManifest("web", WebManifest.Vip(40), [.. sandbox.Backends.Select(b => b.Address)], SandboxBackend.TcpPort);
        web.WriteTo(ManifestFile);
        string[] run = RunArguments(sandbox);

        AgentStatus.FrontendEntry programmed;
        await using (AgentProcess agent = AgentProcess.Start(run, log.Write))
        {
            await agent.WaitReadyAsync();
            await agent.WaitForLogAsync(l => l.Contains("Data path attached", StringComparison.Ordinal), "a fresh attach");

            IReadOnlyList<string> reached = await sandbox.ConnectAllAsync(web.Frontend, 30);
            Assert.Subset(sandbox.Backends.Names().ToHashSet(), reached.ToHashSet());
            Assert.True(reached.Distinct().Count() >= 2, "30 connects all went to one backend: " + string.Join(",", reached));

            AgentStatus status = await AgentCli.StatusAsync(sandbox.BpffsPath);
            AgentStatus.FrontendEntry frontend = Assert.Single(status.Frontends);
            Assert.Equal(web.Frontend, frontend.Frontend.EndPoint);
            Assert.Equal("TCP", frontend.Frontend.Protocol);
            Assert.Contains("default/web", frontend.Service, StringComparison.Ordinal);
            Assert.Equal(["198.18.1.2", "198.18.2.2", "198.18.3.2"], frontend.BackendAddresses);
            Assert.All(frontend.Backends, b => Assert.Equal(SandboxBackend.TcpPort, b.Port));
            Assert.True(frontend.Counters.Translated >= 30, $"translated counter {frontend.Counters.Translated} after 30 connects");

            string metrics = await agent.MetricsAsync();
            Assert.Contains("\ncgroup_lb_frontends 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("\ncgroup_lb_service_translations_total{", metrics, StringComparison.Ordinal);
            Assert.Contains("\ncgroup_lb_syncs_total{", metrics, StringComparison.Ordinal);
            Assert.Contains("\ncgroup_lb_map_fill_ratio{", metrics, StringComparison.Ordinal);
            Assert.Contains("\ncgroup_lb_frontends_refused{reason=\"service_map_full\"} 0\n", metrics, StringComparison.Ordinal);

            // A live edit: b3 leaves the EndpointSlice.
            var withoutB3 = web with { Endpoints = [sandbox.Backend("b1").Address, sandbox.Backend("b2").Address] };
            withoutB3.WriteTo(ManifestFile);
            await Eventually.MatchAsync(() => AgentCli.StatusAsync(sandbox.BpffsPath),
                s => s.Find(web.Frontend)?.Backends.Count == 2, "b3 removed from the maps");
            IReadOnlyList<string> afterEdit = await sandbox.ConnectAllAsync(web.Frontend, 30);
            Assert.DoesNotContain("b3", afterEdit);

            // A bad edit: the slice is rejected, named precisely, and its last good state stays in force.
            WebManifest.WriteText(ManifestFile, withoutB3.ToYaml(["198.18.1.2", "198.18.2.999"]));
            string error = await agent.WaitForLogAsync(
                l => l.Contains("Manifest error", StringComparison.Ordinal) && l.Contains(ManifestFile, StringComparison.Ordinal), "the manifest error");
            Assert.Contains("doc 1", error, StringComparison.Ordinal);
            Assert.Contains("EndpointSlice default/web-slice", error, StringComparison.Ordinal);
            Assert.Contains("198.18.2.999", error, StringComparison.Ordinal);
            Assert.Equal(["198.18.1.2", "198.18.2.2"], (await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend)!.BackendAddresses);
            Assert.DoesNotContain("b3", await sandbox.ConnectAllAsync(web.Frontend, 10));

            // Fixed again, so the restart below reads the same good state.
            withoutB3.WriteTo(ManifestFile);
            await agent.WaitForLogAsync(l => l.Contains("Manifest error resolved", StringComparison.Ordinal), "the error resolved");
            programmed = (await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend)!;

            Assert.Equal(0, await agent.TerminateAsync());
        }

        // No agent: the pinned links keep the programs attached and the maps keep the service.
        Assert.NotEmpty(await CgroupAttachments.ListAsync(sandbox.CgroupPath));
        Assert.DoesNotContain("b3", await sandbox.ConnectAllAsync(web.Frontend, 10));

        await using (AgentProcess restarted = AgentProcess.Start(run, log.Write))
        {
            await restarted.WaitReadyAsync();
            await restarted.WaitForLogAsync(l => l.Contains("Data path adopted", StringComparison.Ordinal), "the adoption");
            string initial = await restarted.WaitForLogAsync(l => l.Contains("Initial sync written", StringComparison.Ordinal), "the initial sync");
            Assert.Contains("0 frontends programmed, 0 removed", initial, StringComparison.Ordinal);

            AgentStatus.FrontendEntry adopted = (await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend)!;
            Assert.Equal(programmed.Id, adopted.Id);
            Assert.Equal(programmed.Backends, adopted.Backends);
            Assert.True(adopted.Counters.Translated >= programmed.Counters.Translated + 10,
                $"counters were reset: {programmed.Counters.Translated} before the restart, {adopted.Counters.Translated} after 10 more connects");

            Assert.Equal(0, await restarted.TerminateAsync());
        }

        CommandResult detach = await AgentCli.RunAsync("detach", "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath);
        Assert.True(detach.ExitCode == 0, $"detach: {detach.Stderr}{detach.Stdout}");

        await sandbox.AssertUnreachableAsync(web.Frontend);
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    [SkippableFact]
    public async Task DetachOnExitRemovesProgramsAndPinsOnSigterm()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        var web = new WebManifest("web", WebManifest.Vip(41), [sandbox.Backend("b1").Address], SandboxBackend.TcpPort);
        web.WriteTo(ManifestFile);

        await using (AgentProcess agent = AgentProcess.Start([.. RunArguments(sandbox), "--detach-on-exit"], log.Write))
        {
            await agent.WaitReadyAsync();
            Assert.Equal(["b1", "b1", "b1"], await sandbox.ConnectAllAsync(web.Frontend, 3));

            Assert.Equal(0, await agent.TerminateAsync());
        }

        await sandbox.AssertUnreachableAsync(web.Frontend);
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    private string[] RunArguments(KernelSandbox sandbox) =>
        ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1", "--metrics-per-service"];

    public void Dispose() => manifests.Delete(recursive: true);
}
