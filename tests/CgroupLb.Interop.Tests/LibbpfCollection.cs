namespace CgroupLb.Interop.Tests;

/// <summary>libbpf's print hook is process-wide: tests that install a logger or expect libbpf output run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LibbpfCollection
{
    public const string Name = "libbpf print hook";
}
