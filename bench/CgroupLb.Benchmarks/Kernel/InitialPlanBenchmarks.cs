using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// <see cref="BpfMapWriter.Apply"/> of the first plan an agent writes: 1000 frontends x 5 backends into empty kernel
/// maps (per frontend: one batch update of its backends, one of its slots, the master, stats reset and name).
/// Every iteration starts from empty maps, so each iteration is a single invocation; the maps are emptied in
/// IterationSetup, outside the measurement.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[IterationCount(15)]
public class InitialPlanBenchmarks
{
    private BenchmarkMaps? maps;
    private BpfMapWriter writer = null!;
    private LoadBalancerPlan initialPlan = LoadBalancerPlan.Empty;
    private LoadBalancerPlan removeAllPlan = LoadBalancerPlan.Empty;

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(InitialPlanBenchmarks));
        maps = BenchmarkMaps.Create();
        try
        {
            writer = new BpfMapWriter(maps.Maps, NullLogger.Instance);
            var desired = KernelWorkload.Desired(KernelWorkload.Cluster(), []);
            var empty = ImmutableDictionary<Frontend, LoadBalancerService>.Empty;
            initialPlan = LoadBalancerPlanner.Plan(empty, desired);
            removeAllPlan = LoadBalancerPlanner.Plan(desired, empty);

            writer.Apply(initialPlan);
            KernelWorkload.ExpectKernelHolds(maps.Maps, KernelWorkload.Services, "after the initial plan");
            writer.Apply(removeAllPlan);
            KernelWorkload.ExpectKernelHolds(maps.Maps, 0, "after removing every frontend");
        }
        catch
        {
            Cleanup();
            throw;
        }
    }

    [IterationSetup]
    public void EmptyMaps()
    {
        // The maps' own contents decide, read through the status decoder (the writer keeps no counters for this).
        if (MapSnapshot.Read(maps!.Maps).Frontends.Count > 0) writer.Apply(removeAllPlan);
    }

    [Benchmark(Description = "Apply initial plan, 1000 x 5 backends")]
    public int ApplyInitialPlan()
    {
        return writer.Apply(initialPlan).Refused.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        maps?.Dispose();
        maps = null;
    }
}
