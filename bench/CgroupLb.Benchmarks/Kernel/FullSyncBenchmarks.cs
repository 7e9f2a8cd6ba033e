using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// Model to maps at cluster scale: N Services x 10 endpoints (10k and 50k; at 50k addresses repeat with other ports, see
/// <see cref="SyntheticCluster.Create"/>) translated, planned against empty maps and written by
/// <see cref="BpfMapWriter"/> into real kernel maps (sized for the workload), as an agent's first sync does.
/// "write only" is the <see cref="BpfMapWriter.Apply"/> share of it. Each iteration starts from empty maps (emptied
/// in IterationSetup, outside the measurement), so each is a single invocation.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[IterationCount(5)]
public class FullSyncBenchmarks
{
    private const int BackendsPerService = 10;
    private BenchmarkMaps? maps;
    private BpfMapWriter writer = null!;
    private ClusterState state = null!;
    private LoadBalancerPlan initialPlan = LoadBalancerPlan.Empty;
    private LoadBalancerPlan removeAllPlan = LoadBalancerPlan.Empty;
    private readonly ServiceTranslator translator = new("node-a");

    [Params(10_000, 50_000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(FullSyncBenchmarks));
        uint entries = (uint)(Services * (1 + BackendsPerService) * 5 / 4);
        maps = BenchmarkMaps.Create(serviceEntries: Math.Max(entries, 262144), backendEntries: Math.Max((uint)(Services * BackendsPerService * 5 / 4), 131072));
        try
        {
            writer = new BpfMapWriter(maps.Maps, NullLogger.Instance);
            state = SyntheticCluster.Create(Services, BackendsPerService, BackendsPerService).State([]);
            var desired = translator.Translate(state);
            var empty = ImmutableDictionary<Frontend, LoadBalancerService>.Empty;
            initialPlan = LoadBalancerPlanner.Plan(empty, desired);
            removeAllPlan = LoadBalancerPlanner.Plan(desired, empty);
            ApplyExpectation.AllApplied(writer.Apply(initialPlan), "the initial plan");
            var snapshot = MapSnapshot.Read(maps.Maps);
            if (snapshot.Frontends.Count != Services || snapshot.Backends.Count != Services * BackendsPerService)
                throw new InvalidOperationException($"the maps hold {snapshot.Frontends.Count} frontends and {snapshot.Backends.Count} backends after the initial plan");
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
        if (MapSnapshot.Read(maps!.Maps).Frontends.Count > 0)
            ApplyExpectation.AllApplied(writer.Apply(removeAllPlan), "removing every frontend");
    }

    [Benchmark(Description = "Full sync into empty maps: translate, plan, write (N x 10)")]
    public int TranslatePlanWrite()
    {
        var desired = translator.Translate(state);
        var plan = LoadBalancerPlanner.Plan(ImmutableDictionary<Frontend, LoadBalancerService>.Empty, desired);
        return writer.Apply(plan).Refused.Length;
    }

    [Benchmark(Description = "Write only: BpfMapWriter.Apply of the initial plan (N x 10)")]
    public int WriteOnly() => writer.Apply(initialPlan).Refused.Length;

    [GlobalCleanup]
    public void Cleanup()
    {
        maps?.Dispose();
        maps = null;
    }
}
