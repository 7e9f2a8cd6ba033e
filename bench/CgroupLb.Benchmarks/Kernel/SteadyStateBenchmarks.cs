using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// <see cref="BpfMapWriter"/> against kernel maps already holding 1000 frontends x 5 backends. Each Apply benchmark
/// applies a change and then its inverse, so the maps return to where they started and every invocation does the
/// same work; the reported time is per plan (OperationsPerInvoke = 2), the mean of the forward and backward plan.
/// <see cref="ReadApplied"/> is the read side of every full sync: the writer rebuilding its view from the maps.
/// </summary>
[MemoryDiagnoser]
public class SteadyStateBenchmarks
{
    private BenchmarkMaps? maps;
    private BpfMapWriter writer = null!;
    private LoadBalancerPlan shrinkPlan = LoadBalancerPlan.Empty;
    private LoadBalancerPlan growPlan = LoadBalancerPlan.Empty;
    private LoadBalancerPlan churnPlan = LoadBalancerPlan.Empty;
    private LoadBalancerPlan unchurnPlan = LoadBalancerPlan.Empty;
    private LoadBalancerPlan unchangedPlan = LoadBalancerPlan.Empty;

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(SteadyStateBenchmarks));
        maps = BenchmarkMaps.Create();
        try
        {
            writer = new BpfMapWriter(maps.Maps, NullLogger.Instance);
            SyntheticCluster cluster = KernelWorkload.Cluster();
            var steady = KernelWorkload.Desired(cluster, []);
            writer.Apply(LoadBalancerPlanner.Plan(ImmutableDictionary<Frontend, LoadBalancerService>.Empty, steady));
            unchangedPlan = new LoadBalancerPlan([.. steady.Values.OrderBy(s => s.Frontend)], []);

            // One service in the middle of the frontend order loses its last backend, then gets it back.
            LoadBalancerService target = steady[steady.Keys.Order().ElementAt(KernelWorkload.Services / 2)];
            var shrunk = steady.SetItem(target.Frontend, target with { Backends = target.Backends.RemoveAt(target.Backends.Length - 1) });
            shrinkPlan = LoadBalancerPlanner.Plan(steady, shrunk);
            growPlan = LoadBalancerPlanner.Plan(shrunk, steady);

            // 1% of the services each swap one pod for a new one (a rolling update's step).
            var churned = KernelWorkload.Desired(cluster, cluster.SpreadIndexes(KernelWorkload.ChurnedServices));
            churnPlan = LoadBalancerPlanner.Plan(steady, churned);
            unchurnPlan = LoadBalancerPlanner.Plan(churned, steady);

            Expect(shrinkPlan, 1);
            Expect(growPlan, 1);
            Expect(churnPlan, KernelWorkload.ChurnedServices);
            Expect(unchurnPlan, KernelWorkload.ChurnedServices);
            UpdateOneService();
            ChurnOnePercent();
            // A reload must find exactly what was written, or the read benchmark measures the wrong thing.
            LoadBalancerPlan drift = LoadBalancerPlanner.Plan(writer.ReadApplied(), steady);
            if (!drift.IsEmpty)
                throw new InvalidOperationException($"ReadApplied differs from what was written: {drift.Upserts.Length} upserts, {drift.Deletes.Length} deletes to repair");
            KernelWorkload.ExpectKernelHolds(maps.Maps, KernelWorkload.Services, "after a warm-up round of every plan");
        }
        catch
        {
            Cleanup();
            throw;
        }
    }

    [Benchmark(OperationsPerInvoke = 2, Description = "Update 1 service, 5 -> 4 -> 5 backends")]
    public int UpdateOneService()
    {
        writer.Apply(shrinkPlan);
        return writer.Apply(growPlan).Refused.Length;
    }

    [Benchmark(OperationsPerInvoke = 2, Description = "Apply 1% churn plan (10 services, 1 pod each)")]
    public int ChurnOnePercent()
    {
        writer.Apply(churnPlan);
        return writer.Apply(unchurnPlan).Refused.Length;
    }

    /// <summary>A plan naming every frontend exactly as the maps hold it: must allocate nothing per service.</summary>
    [Benchmark(Description = "Apply 1000 unchanged upserts (steady state)")]
    public int ApplyUnchanged() => writer.Apply(unchangedPlan).Refused.Length;

    [Benchmark(Description = "ReadApplied (reload 1000 x 5 from the maps)")]
    public int ReadApplied() => writer.ReadApplied().Count;

    [GlobalCleanup]
    public void Cleanup()
    {
        maps?.Dispose();
        maps = null;
    }

    private static void Expect(LoadBalancerPlan plan, int upserts)
    {
        if (plan.Upserts.Length != upserts || plan.Deletes.Length != 0)
            throw new InvalidOperationException($"workload error: plan has {plan.Upserts.Length} upserts, {plan.Deletes.Length} deletes; expected {upserts}, 0");
    }
}
