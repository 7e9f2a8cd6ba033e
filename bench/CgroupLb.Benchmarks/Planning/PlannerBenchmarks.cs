using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;

namespace CgroupLb.Benchmarks.Planning;

/// <summary>
/// <see cref="LoadBalancerPlanner.Plan"/>, the full diff a full sync runs: applied map contents against freshly
/// translated desired state. Applied and desired hold equal but distinct objects, as in the agent (applied comes
/// from the previous sync, desired from this one's translation), so equality is really compared element by element.
/// </summary>
[MemoryDiagnoser]
public class PlannerBenchmarks
{
    private ImmutableDictionary<Frontend, LoadBalancerService> applied = ImmutableDictionary<Frontend, LoadBalancerService>.Empty;
    private IReadOnlyDictionary<Frontend, LoadBalancerService> desiredUnchanged = new Dictionary<Frontend, LoadBalancerService>();
    private IReadOnlyDictionary<Frontend, LoadBalancerService> desiredOnePercentChanged = new Dictionary<Frontend, LoadBalancerService>();

    [Params(100, 1000, 10000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var cluster = SyntheticCluster.Create(Services, minBackends: 3, maxBackends: 10);
        var translator = new ServiceTranslator("node-a");
        applied = translator.Translate(cluster.State([])).ToImmutableDictionary();
        desiredUnchanged = translator.Translate(cluster.State([]));
        int changed = Math.Max(1, Services / 100);
        desiredOnePercentChanged = translator.Translate(cluster.State(cluster.SpreadIndexes(changed)));

        // Guard the workload itself: a generator bug must not turn into a fast, meaningless number.
        Expect(LoadBalancerPlanner.Plan(applied, desiredUnchanged), upserts: 0);
        Expect(LoadBalancerPlanner.Plan(applied, desiredOnePercentChanged), upserts: changed);
    }

    [Benchmark(Description = "Plan, nothing changed")]
    public LoadBalancerPlan PlanUnchanged() => LoadBalancerPlanner.Plan(applied, desiredUnchanged);

    [Benchmark(Description = "Plan, 1% of services changed")]
    public LoadBalancerPlan PlanOnePercentChanged() => LoadBalancerPlanner.Plan(applied, desiredOnePercentChanged);

    private void Expect(LoadBalancerPlan plan, int upserts)
    {
        if (plan.Upserts.Length != upserts || plan.Deletes.Length != 0)
            throw new InvalidOperationException(
                $"workload error at {Services} services: plan has {plan.Upserts.Length} upserts and {plan.Deletes.Length} deletes, expected {upserts} and 0");
    }
}
