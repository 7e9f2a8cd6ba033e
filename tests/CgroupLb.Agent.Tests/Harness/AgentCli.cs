using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>Runs one short cgroup-lb command (status, detach, a failing run) to completion.</summary>
public static class AgentCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static Task<CommandResult> RunAsync(params string[] arguments)
    {
        IReadOnlyList<string> argv = AgentBinary.Command(arguments);
        return HostCommand.RunAsync(argv[0], argv.Skip(1), Timeout);
    }

    /// <summary>`cgroup-lb status -o json` on <paramref name="bpffs"/>; throws with stderr unless it exits 0.</summary>
    public static async Task<AgentStatus> StatusAsync(string bpffs) =>
        AgentStatus.Parse((await RunAsync("status", "--bpffs", bpffs, "-o", "json")).EnsureSuccess().Stdout);
}
