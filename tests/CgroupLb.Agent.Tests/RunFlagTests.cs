using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// The duration and bind-address flags of `run` (--sync-period, --min-sync-period, --lock-timeout, --health-pending-limit) take
/// kube-proxy's notation ("30s", "500ms", "1m30s"); anything else is a usage error naming the flag. No root needed.
/// </summary>
public sealed class RunFlagTests : IDisposable
{
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("cglb-agent-flags-");

    [Theory]
    [InlineData("--sync-period", "30")]
    [InlineData("--min-sync-period", "00:00:01")]
    [InlineData("--lock-timeout", "-1s")]
    [InlineData("--health-pending-limit", "0")]
    public async Task ADurationFlagRefusesWhatIsNotADuration(string flag, string value)
    {
        CommandResult result = await AgentCli.RunAsync("run", "--source", scratch.FullName, flag, value, "--healthz-bind-address", "none", "--metrics-bind-address", "none");

        Assert.Equal(2, result.ExitCode);
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cgroup-lb: error: ", error, StringComparison.Ordinal);
        Assert.Contains($"{flag}: '{value}' is not a", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--healthz-bind-address", "10266")]
    [InlineData("--healthz-bind-address", "::1:10266")]
    [InlineData("--metrics-bind-address", "localhost:10265")]
    [InlineData("--metrics-bind-address", "127.0.0.1:70000")]
    public async Task ABindAddressFlagRefusesWhatIsNotAnIpAndPort(string flag, string value)
    {
        CommandResult result = await AgentCli.RunAsync("run", "--source", scratch.FullName, flag, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{flag}: '{value}' is not host:port", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("198.51.100.0")]
    [InlineData("primary,192.0.2.0/24")]
    public async Task TheNodePortAddressesFlagRefusesWhatIsNoCidrListOrPrimary(string value)
    {
        CommandResult result = await AgentCli.RunAsync("run", "--source", scratch.FullName, "--nodeport-addresses", value,
            "--healthz-bind-address", "none", "--metrics-bind-address", "none");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--nodeport-addresses '{value}'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOldHealthAddressFlagIsGoneAndTheHelpNamesKubeProxysFlagsAndPorts()
    {
        CommandResult old = await AgentCli.RunAsync("run", "--source", scratch.FullName, "--health-address", "none");
        Assert.Equal(2, old.ExitCode);
        Assert.Contains("--health-address", old.Stderr, StringComparison.Ordinal);

        CommandResult help = (await AgentCli.RunAsync("run", "--help")).EnsureSuccess();
        Assert.Contains("--healthz-bind-address", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("default 0.0.0.0:10266", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("--metrics-bind-address", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("default 127.0.0.1:10265", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("--state-dir", help.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheHelpNamesEveryDurationFlagWithItsDefault()
    {
        CommandResult result = (await AgentCli.RunAsync("run", "--help")).EnsureSuccess();

        Assert.Contains("--sync-period", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("default 30s", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--min-sync-period", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("default 100ms", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--lock-timeout", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--health-pending-limit", result.Stdout, StringComparison.Ordinal);
    }

    public void Dispose() => scratch.Delete(recursive: true);
}
