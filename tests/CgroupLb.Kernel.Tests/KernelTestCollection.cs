using CgroupLb.Testing.Sandbox;

namespace CgroupLb.Kernel.Tests;

/// <summary>
/// All kernel tests share this collection: they run one at a time (each builds namespaces and starts processes on a
/// small shared machine) and the janitor sweeps stale sandboxes once before the first of them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class KernelTestCollection : ICollectionFixture<SandboxJanitor>
{
    public const string Name = "kernel";

    /// <summary>Trait value, so other suites can exclude these: dotnet test --filter Category!=Kernel.</summary>
    public const string Category = "Kernel";
}
