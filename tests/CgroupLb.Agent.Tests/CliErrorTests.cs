using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// A mistake on the command line gets one line on stderr, "cgroup-lb: error: ...", naming what is wrong and what to
/// do, a non-zero exit (1 for a failed operation, 2 for a command line that does not parse), and touches nothing.
/// These need no root: they fail before the kernel is reached.
/// </summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("cglb-agent-cli-");

    private string Pins => Path.Combine(scratch.FullName, "pins");

    [Fact]
    public async Task RunWithAMissingSourcePathNamesThePath()
    {
        string missing = Path.Combine(scratch.FullName, "no-such-manifests");

        CommandResult result = await AgentCli.RunAsync("run", "--source", missing, "--cgroup", scratch.FullName, "--bpffs", Pins, "--healthz-bind-address", "none", "--metrics-bind-address", "none");

        string error = AssertOneLineError(result, exitCode: 1);
        Assert.Contains($"'{missing}' does not exist", error);
        Assert.Contains("YAML/JSON file or a directory", error);
        Assert.False(Directory.Exists(Pins), "nothing may be pinned");
    }

    [Fact]
    public async Task SourceAndKubeconfigTogetherAreAUsageError()
    {
        CommandResult result = await AgentCli.RunAsync(
            "run", "--source", scratch.FullName, "--kubeconfig", Path.Combine(scratch.FullName, "kubeconfig"), "--bpffs", Pins);

        string error = AssertOneLineError(result, exitCode: 2);
        Assert.Contains("--source and --kubeconfig are exclusive", error);
        Assert.Contains("'cgroup-lb run --help'", error);
        Assert.False(Directory.Exists(Pins), "nothing may be pinned");
    }

    [Fact]
    public async Task AnUnknownCommandIsAUsageError()
    {
        CommandResult result = await AgentCli.RunAsync("frobnicate");

        string error = AssertOneLineError(result, exitCode: 2);
        Assert.Contains("'frobnicate'", error);
        Assert.Contains("'cgroup-lb --help'", error);
    }

    [Fact]
    public async Task AnOptionValueOutsideItsChoicesIsAUsageErrorListingThem()
    {
        CommandResult result = await AgentCli.RunAsync("run", "--source", scratch.FullName, "--log-format", "xml", "--bpffs", Pins);

        string error = AssertOneLineError(result, exitCode: 2);
        Assert.Contains("'xml'", error);
        Assert.Contains("'text'", error);
        Assert.Contains("'json'", error);
        Assert.False(Directory.Exists(Pins), "nothing may be pinned");
    }

    /// <summary>Exactly one line on stderr, in the agent's error form, nothing on stdout; returns the line.</summary>
    internal static string AssertOneLineError(CommandResult result, int exitCode)
    {
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one stderr line from '{result.CommandLine}', got {lines.Length}: {result.Stderr}");
        Assert.StartsWith("cgroup-lb: error: ", lines[0]);
        Assert.True(result.Stdout.Trim().Length == 0, $"expected nothing on stdout, got: {result.Stdout}");
        Assert.Equal(exitCode, result.ExitCode);
        return lines[0];
    }

    public void Dispose() => scratch.Delete(recursive: true);
}
