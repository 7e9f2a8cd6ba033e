using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Agent.Tests.CliErrorTests;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// Mistakes about the cgroup and bpffs directories. As root they reach the preflight checks (without root every one
/// of them stops at "needs root"), so these run in a sandbox: a real child cgroup and bpffs directory next to the
/// wrong ones, checked afterwards for anything attached or pinned.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class DatapathCliErrorTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("cglb-agent-cli-");

    [SkippableFact]
    public async Task RunWithACgroupThatDoesNotExistSaysToPassAnExistingOne()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        string missing = Path.Combine(sandbox.CgroupPath, "absent");

        CommandResult result = await RunAsync(missing, sandbox.BpffsPath);

        string error = AssertOneLineError(result, exitCode: 1);
        Assert.Contains($"cgroup {missing} does not exist", error);
        Assert.Contains("--cgroup", error);
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    [SkippableFact]
    public async Task RunWithACgroupOutsideCgroupV2SaysToUseOne()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);

        CommandResult result = await RunAsync(scratch.FullName, sandbox.BpffsPath);

        string error = AssertOneLineError(result, exitCode: 1);
        Assert.Contains($"{scratch.FullName} is not on a cgroup v2 filesystem", error);
        Assert.Contains("mount -t cgroup2", error);
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    [SkippableFact]
    public async Task RunWithABpffsDirectoryOutsideBpffsSaysHowToMountIt()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        string notBpffs = Path.Combine(scratch.FullName, "pins");

        CommandResult result = await RunAsync(sandbox.CgroupPath, notBpffs);

        string error = AssertOneLineError(result, exitCode: 1);
        Assert.Contains($"{notBpffs} is not on a BPF filesystem", error);
        Assert.Contains("mount -t bpf bpf /sys/fs/bpf", error);
        Assert.False(Directory.Exists(notBpffs), $"{notBpffs} was created");
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    [SkippableFact]
    public async Task StatusWithNothingPinnedSaysTheAgentHasNotRunThere()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        string absent = Path.Combine(sandbox.BpffsPath, "absent");

        CommandResult result = await AgentCli.RunAsync("status", "--bpffs", absent);

        string error = AssertOneLineError(result, exitCode: 1);
        Assert.Contains($"nothing is pinned at {absent}", error);
        Assert.False(Directory.Exists(absent), $"status created {absent}");
    }

    [SkippableFact]
    public async Task StatusOnAnEmptyBpffsDirectoryNamesTheMissingMapAndSaysToRunTheAgent()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);

        CommandResult result = await AgentCli.RunAsync("status", "--bpffs", sandbox.BpffsPath);

        string error = AssertOneLineError(result, exitCode: 1);
        Assert.Contains($"is not pinned at {sandbox.BpffsPath}/", error);
        Assert.Contains("start the agent (cgroup-lb run)", error);
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    private async Task<CommandResult> RunAsync(string cgroup, string bpffs)
    {
        string manifests = scratch.CreateSubdirectory("manifests").FullName;
        CommandResult result = await AgentCli.RunAsync(
            "run", "--source", manifests, "--cgroup", cgroup, "--bpffs", bpffs, "--node-name", "n1", "--healthz-bind-address", "none", "--metrics-bind-address", "none");
        log.Write($"{result.CommandLine} -> {result.ExitCode}: {result.Stderr.Trim()}");
        return result;
    }

    public void Dispose() => scratch.Delete(recursive: true);
}
