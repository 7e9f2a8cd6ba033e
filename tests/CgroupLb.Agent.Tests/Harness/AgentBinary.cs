using System.Reflection;
using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>
/// The cgroup-lb executable under test. By default the build output of src/CgroupLb.Agent that was built with these
/// tests (its path is recorded in this assembly at build time), run through the dotnet muxer; CGROUP_LB_AGENT may
/// name another build instead by absolute path (the test host's working directory is its output folder), either a
/// cgroup-lb.dll or an executable such as the published bin/cgroup-lb.
/// </summary>
public static class AgentBinary
{
    public const string OverrideVariable = "CGROUP_LB_AGENT";

    public static string Path { get; } =
        Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } chosen
            ? System.IO.Path.IsPathRooted(chosen) ? chosen : throw new InvalidOperationException($"{OverrideVariable} must be an absolute path, not '{chosen}'")
            : typeof(AgentBinary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "CgroupLbAgentPath").Value
              ?? throw new InvalidOperationException("this test assembly was built without the agent's path");

    /// <summary>argv that runs cgroup-lb with <paramref name="arguments"/>.</summary>
    public static IReadOnlyList<string> Command(IEnumerable<string> arguments)
    {
        if (!File.Exists(Path))
            throw new FileNotFoundException($"cgroup-lb is not at {Path}; build src/CgroupLb.Agent (make build) or set {OverrideVariable}", Path);
        return Path.EndsWith(".dll", StringComparison.Ordinal)
            ? [TestPeerBinary.Muxer, Path, .. arguments]
            : [Path, .. arguments];
    }
}
