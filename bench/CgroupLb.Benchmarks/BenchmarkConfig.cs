using System.Reflection;
using BenchmarkDotNet.Configs;

namespace CgroupLb.Benchmarks;

/// <summary>
/// The defaults every run starts from; command-line options (--job short, --filter, --artifacts, ...) are applied on
/// top by BenchmarkSwitcher. No job is fixed here, so `--job short` gives exactly BenchmarkDotNet's ShortRun.
/// </summary>
internal static class BenchmarkConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .WithArtifactsPath(Path.Combine(ProjectDirectory(), "BenchmarkDotNet.Artifacts"))
        .WithOptions(ConfigOptions.JoinSummary);

    // Baked in at build time, so results land in bench/ whichever directory `dotnet run` was started from.
    private static string ProjectDirectory() =>
        typeof(BenchmarkConfig).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "BenchmarkProjectDirectory")?.Value
        ?? Directory.GetCurrentDirectory();
}
