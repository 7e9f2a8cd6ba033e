using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// Tests that run the agent against a kernel sandbox run one at a time (each builds namespaces and starts an agent
/// and backends on a small shared machine); the janitor sweeps stale sandboxes of crashed runs before the first.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AgentKernelCollection : ICollectionFixture<SandboxJanitor>
{
    public const string Name = "agent-kernel";

    /// <summary>Trait value shared with the kernel tests: dotnet test --filter Category!=Kernel leaves them out.</summary>
    public const string Category = "Kernel";
}
