using System.Diagnostics;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// An agent that restarts on a manifest which broke while it was down has no last good state for the broken document:
/// the manifest source holds the service, so the frontend an earlier run pinned keeps its id, backends and traffic
/// (it is not rewritten with no backends, which would refuse every connect) until the document is fixed.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class ManifestRestartHoldTests(ITestOutputHelper output) : IDisposable
{
    private const string BadAddress = "198.18.1.999";
    private static readonly TimeSpan HeldTraffic = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan FixTraffic = TimeSpan.FromSeconds(8);
    // Lets the client's loop get going (it starts a process in the sandbox) before the fix is written.
    private static readonly TimeSpan FixLead = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(15);

    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-manifests-");

    private string ManifestFile => Path.Combine(manifests.FullName, "web.yaml");

    [SkippableFact]
    public async Task ASliceBrokenWhileTheAgentWasDownHoldsThePinnedServiceUntilItIsFixed()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 3, log: log.Write);
        var web = new WebManifest("web", WebManifest.Vip(42), [.. sandbox.Backends.Select(b => b.Address)], SandboxBackend.TcpPort);
        web.WriteTo(ManifestFile);
        string[] run = ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1"];

        AgentStatus.FrontendEntry programmed;
        await using (AgentProcess first = AgentProcess.Start(run, log.Write))
        {
            await first.WaitReadyAsync();
            await first.WaitForLogAsync(l => l.Contains("Data path attached", StringComparison.Ordinal), "a fresh attach");
            Assert.Subset(sandbox.Backends.Names().ToHashSet(), (await sandbox.ConnectAllAsync(web.Frontend, 20)).ToHashSet());
            programmed = (await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend)
                ?? throw new XunitException($"{web.Frontend} not in the maps after the first run");
            Assert.Equal(["198.18.1.2", "198.18.2.2", "198.18.3.2"], programmed.BackendAddresses);
            Assert.Equal(0, programmed.Counters.RefusedNoBackend);
            Assert.Equal(0, await first.TerminateAsync());
        }

        // Broken while no agent runs: b3's address is mistyped, so the new agent never sees a valid slice.
        WebManifest.WriteText(ManifestFile, web.ToYaml(["198.18.1.2", "198.18.2.2", BadAddress]));

        await using (AgentProcess restarted = AgentProcess.Start(run, log.Write))
        {
            await restarted.WaitReadyAsync();
            await restarted.WaitForLogAsync(l => l.Contains("Data path adopted", StringComparison.Ordinal), "the adoption");
            string error = await restarted.WaitForLogAsync(
                l => l.Contains("Manifest error", StringComparison.Ordinal) && l.Contains(ManifestFile, StringComparison.Ordinal), "the manifest error");
            Assert.Contains("doc 1", error, StringComparison.Ordinal);
            Assert.Contains("EndpointSlice default/web-slice", error, StringComparison.Ordinal);
            Assert.Contains(BadAddress, error, StringComparison.Ordinal);
            string hold = await restarted.WaitForLogAsync(l => l.Contains("Holding Service default/web:", StringComparison.Ordinal), "the source's hold");
            Assert.Contains($"EndpointSlice default/web-slice from {ManifestFile} doc 1", hold, StringComparison.Ordinal);
            await restarted.WaitForLogAsync(l => l.Contains("Service default/web held", StringComparison.Ordinal), "the syncer keeping the held service");

            // The line that tells the fix apart: before it, the Service (valid) arrived with no slice and its frontend
            // was rewritten with 0 backends, "1 frontends programmed".
            string initial = await restarted.WaitForLogAsync(l => l.Contains("Initial sync written", StringComparison.Ordinal), "the initial sync");
            Assert.True(initial.Contains("0 frontends programmed, 0 removed", StringComparison.Ordinal),
                $"the restart rewrote the held service instead of keeping it: {initial}");

            AgentStatus.FrontendEntry held = (await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend)
                ?? throw new XunitException($"{web.Frontend} gone from the maps after the restart");
            Assert.Equal(programmed.Id, held.Id);
            Assert.Contains("default/web", held.Service, StringComparison.Ordinal);
            Assert.Equal(programmed.Backends, held.Backends);

            TcpLoopRun whileHeld = await sandbox.TcpLoopAsync(web.Frontend, HeldTraffic);
            log.Write($"while held: {Describe(whileHeld)}");
            Assert.True(whileHeld.Summary.Attempts >= 20, $"only {whileHeld.Summary.Attempts} connects in {HeldTraffic.TotalSeconds}s");
            Assert.True(whileHeld.Summary.Failures == 0, $"connects failed while the service was held: {Describe(whileHeld)}");
            Assert.Subset(sandbox.Backends.Names().ToHashSet(), whileHeld.Summary.ByBackend.Keys.ToHashSet());
            AgentStatus.FrontendEntry afterTraffic = (await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend)!;
            Assert.Equal(0, afterTraffic.Counters.RefusedNoBackend);
            Assert.Equal(programmed.Backends, afterTraffic.Backends);

            // Fixed, and b3 dropped in the same edit: the hold ends and the service converges to b1, b2 without a
            // refused connect in between.
            var withoutB3 = web with { Endpoints = [sandbox.Backend("b1").Address, sandbox.Backend("b2").Address] };
            Task<TcpLoopRun> acrossFix = sandbox.TcpLoopAsync(web.Frontend, FixTraffic);
            await Task.Delay(FixLead);
            long fixWrittenAt = MonotonicNanoseconds();
            withoutB3.WriteTo(ManifestFile);
            AgentStatus converged = await Eventually.MatchAsync(() => AgentCli.StatusAsync(sandbox.BpffsPath),
                s => s.Find(web.Frontend)?.BackendAddresses.SequenceEqual(["198.18.1.2", "198.18.2.2"]) == true,
                "the fixed slice's backends in the maps", ConvergeTimeout);
            long convergedAt = MonotonicNanoseconds();
            Assert.Equal(programmed.Id, converged.Find(web.Frontend)!.Id);
            await restarted.WaitForLogAsync(l => l.Contains("Manifest error resolved", StringComparison.Ordinal), "the error resolved");
            await restarted.WaitForLogAsync(l => l.Contains("Service default/web no longer held", StringComparison.Ordinal), "the source's release");
            await restarted.WaitForLogAsync(l => l.Contains("Service default/web released", StringComparison.Ordinal), "the syncer's release");

            TcpLoopRun fixRun = await acrossFix;
            log.Write($"across the fix: {Describe(fixRun)}");
            Assert.True(fixRun.Attempts.Count > 0 && fixRun.Attempts[0].S < fixWrittenAt,
                $"the client's loop started only after the fix was written ({FixLead.TotalSeconds}s lead), so it did not run across it");
            Assert.True(fixRun.Summary.Failures == 0, $"connects failed across the fix: {Describe(fixRun)}");
            List<TcpLoopRun.Attempt> late = fixRun.Attempts.Where(a => a.S >= convergedAt && a.Backend == "b3").Take(5).ToList();
            Assert.True(late.Count == 0, $"connects started after the maps dropped b3 still reached it: {string.Join(", ", late)}");
            IReadOnlyList<string> afterFix = await sandbox.ConnectAllAsync(web.Frontend, 30);
            Assert.DoesNotContain("b3", afterFix);
            Assert.Equal(["b1", "b2"], afterFix.Distinct().Order());

            Assert.Equal(0, await restarted.TerminateAsync());
        }

        CommandResult detach = await AgentCli.RunAsync("detach", "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath);
        Assert.True(detach.ExitCode == 0, $"detach: {detach.Stderr}{detach.Stdout}");
        await sandbox.AssertUnreachableAsync(web.Frontend);
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    private static string Describe(TcpLoopRun run) =>
        $"{run.Summary.Attempts} connects, " +
        string.Join(", ", run.Summary.ByBackend.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")) +
        (run.Summary.Failures > 0 ? "; errors: " + string.Join(", ", run.Summary.Errors.Select(kv => $"{kv.Key}={kv.Value}")) : "");

    /// <summary>The clock cglb-testpeer stamps its trace with (Stopwatch reads CLOCK_MONOTONIC on Linux).</summary>
    private static long MonotonicNanoseconds() =>
        (long)((Int128)Stopwatch.GetTimestamp() * 1_000_000_000 / Stopwatch.Frequency);

    public void Dispose() => manifests.Delete(recursive: true);
}
