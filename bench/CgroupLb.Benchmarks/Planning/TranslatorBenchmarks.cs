using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;

namespace CgroupLb.Benchmarks.Planning;

/// <summary>
/// <see cref="ServiceTranslator.Translate(ClusterState)"/> of a whole cluster: what every full sync computes before
/// planning (endpoint merging, categorizing, sorting backends).
/// </summary>
[MemoryDiagnoser]
public class TranslatorBenchmarks
{
    private readonly ServiceTranslator translator = new("node-a");
    private ClusterState state = ClusterState.Empty;

    [Params(100, 1000, 10000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        state = SyntheticCluster.Create(Services, minBackends: 3, maxBackends: 10).State([]);
        int frontends = translator.Translate(state).Count;
        if (frontends != Services)
            throw new InvalidOperationException($"workload error: {Services} services translated to {frontends} frontends");
    }

    [Benchmark(Description = "Translate full ClusterState")]
    public IReadOnlyDictionary<Frontend, LoadBalancerService> Translate() => translator.Translate(state);
}
