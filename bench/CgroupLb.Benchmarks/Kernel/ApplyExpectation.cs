using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// A setup step that must write every frontend: a refused one would make the benchmark measure a smaller plan than it
/// says, so setup stops with the first refusal named.
/// </summary>
internal static class ApplyExpectation
{
    public static void AllApplied(ApplyResult result, string what)
    {
        if (!result.AllApplied)
            throw new InvalidOperationException($"{what}: {result.Refused.Length} frontends refused, first: {result.Refused[0].Frontend} {result.Refused[0].Detail}");
    }
}
