using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// `cgroup-lb detach` as the chart's uninstall hook runs it on each node: `--wait` holds off until the node's agent has
/// exited (it holds the bpffs lock) and then removes everything; repeating it, or running it where nothing was ever
/// attached, succeeds and removes nothing.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class DetachTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-detach-");

    [SkippableFact]
    public async Task DetachWaitOutlastsTheAgentThenRemovesEverythingAndASecondDetachFindsNothing()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        var web = new WebManifest("web", WebManifest.Vip(46), [sandbox.Backend("b1").Address], SandboxBackend.TcpPort);
        web.WriteTo(Path.Combine(manifests.FullName, "web.yaml"));
        string[] detachArguments = ["detach", "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath];

        await using AgentProcess agent = AgentProcess.Start(
            ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1"], log.Write);
        await agent.WaitReadyAsync();

        Task<CommandResult> waiting = AgentCli.RunAsync([.. detachArguments, "--wait", "50s"]);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(waiting.IsCompleted, "detach --wait finished while the agent still held the bpffs directory");
        Assert.Equal(["b1", "b1"], await sandbox.ConnectAllAsync(web.Frontend, 2));

        Assert.Equal(0, await agent.TerminateAsync());
        CommandResult detached = await waiting;
        Assert.True(detached.ExitCode == 0, $"detach --wait: {detached.Stderr}{detached.Stdout}");
        Assert.Matches(@"Detached [1-9]\d* programs", detached.Stdout);
        await sandbox.AssertUnreachableAsync(web.Frontend);
        await sandbox.AssertNothingAttachedOrPinnedAsync();

        CommandResult again = await AgentCli.RunAsync(detachArguments);
        Assert.True(again.ExitCode == 0, $"second detach: {again.Stderr}{again.Stdout}");
        Assert.Contains("Detached 0 programs and removed 0 map pins", again.Stdout, StringComparison.Ordinal);
        CommandResult againWaiting = await AgentCli.RunAsync([.. detachArguments, "--wait", "5s"]);
        Assert.True(againWaiting.ExitCode == 0, $"second detach --wait: {againWaiting.Stderr}{againWaiting.Stdout}");
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    [SkippableFact]
    public async Task DetachWhereNothingWasEverAttachedSucceedsAndCreatesNothing()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        string neverUsed = Path.Combine(sandbox.BpffsPath, "never-used");

        CommandResult result = await AgentCli.RunAsync("detach", "--cgroup", sandbox.CgroupPath, "--bpffs", neverUsed, "--wait", "5s");
        Assert.True(result.ExitCode == 0, $"detach: {result.Stderr}{result.Stdout}");
        Assert.Contains("Detached 0 programs and removed 0 map pins", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(neverUsed), "detach created the bpffs directory");

        // The sandbox's own directory exists but holds nothing: the same, without --wait.
        CommandResult empty = await AgentCli.RunAsync("detach", "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath);
        Assert.True(empty.ExitCode == 0, $"detach: {empty.Stderr}{empty.Stdout}");
        Assert.Contains("Detached 0 programs and removed 0 map pins", empty.Stdout, StringComparison.Ordinal);
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    public void Dispose() => manifests.Delete(recursive: true);
}
