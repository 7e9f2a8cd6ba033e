namespace CgroupLb.Agent.Cli;

/// <summary>Defaults for a node: the root of the cgroup v2 hierarchy (every pod below it) and the node name.</summary>
internal static class CgroupDefaults
{
    public static string RootCgroup() =>
        File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";

    public static string NodeName() =>
        Environment.GetEnvironmentVariable("NODE_NAME") is { Length: > 0 } fromEnv ? fromEnv : Environment.MachineName;
}
