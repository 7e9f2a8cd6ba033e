using System.Collections.Immutable;
using System.Net;
using BenchmarkDotNet.Attributes;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// <see cref="BpfMapWriter.Apply"/> of a first plan of 50k Services x 10 backends into real kernel maps sized for it.
/// 500k distinct pods do not fit in the reserved 198.18.0.0/15 test range the synthetic cluster uses, so the plan is
/// built directly: pod k is 198.18.0.0/15 address (k mod 114688) with target port 8080 + k / 114688, and Service i is
/// 203.0.113.(i mod 256), port 1000 + i / 256. Translation is not included (see <see cref="FullSyncBenchmarks"/>).
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[WarmupCount(1)]
[IterationCount(3)]
public class LargePlanBenchmarks
{
    private const int BackendsPerService = 10;
    private const int PodAddresses = 114688;
    private BenchmarkMaps? maps;
    private BpfMapWriter writer = null!;
    private LoadBalancerPlan initialPlan = LoadBalancerPlan.Empty;
    private LoadBalancerPlan removeAllPlan = LoadBalancerPlan.Empty;
    private bool filled;

    [Params(50_000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(LargePlanBenchmarks));
        maps = BenchmarkMaps.Create(serviceEntries: (uint)(Services * (1 + BackendsPerService) * 5 / 4), backendEntries: (uint)(Services * BackendsPerService * 5 / 4));
        try
        {
            writer = new BpfMapWriter(maps.Maps, NullLogger.Instance);
            var services = BuildServices(Services);
            initialPlan = new LoadBalancerPlan([.. services], []);
            removeAllPlan = new LoadBalancerPlan([], [.. services.Select(s => s.Frontend)]);
            ApplyExpectation.AllApplied(writer.Apply(initialPlan), "the initial plan");
            var snapshot = MapSnapshot.Read(maps.Maps);
            if (snapshot.Frontends.Count != Services || snapshot.Backends.Count != Services * BackendsPerService)
                throw new InvalidOperationException($"the maps hold {snapshot.Frontends.Count} frontends and {snapshot.Backends.Count} backends after the initial plan");
            ApplyExpectation.AllApplied(writer.Apply(removeAllPlan), "removing every frontend");
        }
        catch
        {
            Cleanup();
            throw;
        }
    }

    /// <summary>N frontends of 10 backends each, sorted by frontend as the planner emits them (see the class comment).</summary>
    internal static LoadBalancerService[] BuildServices(int count)
    {
        var services = new LoadBalancerService[count];
        for (int i = 0; i < count; i++)
        {
            var frontend = new Frontend(new IPAddress([203, 0, 113, (byte)(i % 256)]), (ushort)(1000 + i / 256), L4Protocol.Tcp);
            var backends = new Backend[BackendsPerService];
            for (int j = 0; j < BackendsPerService; j++)
            {
                int k = i * BackendsPerService + j;
                int a = 512 + k % PodAddresses; // skip 198.18.0.0/23 like the synthetic cluster's node range
                backends[j] = new Backend(new IPAddress([198, (byte)(18 + (a >> 16)), (byte)(a >> 8), (byte)a]), (ushort)(8080 + k / PodAddresses), L4Protocol.Tcp);
            }
            Array.Sort(backends);
            services[i] = new LoadBalancerService(frontend, $"bench/svc-{i:D5}:http", ServiceFlags.ClusterIp, [.. backends]);
        }
        Array.Sort(services, (x, y) => x.Frontend.CompareTo(y.Frontend));
        return services;
    }

    [IterationSetup]
    public void EmptyMaps()
    {
        // Every iteration writes the whole plan; empty the maps again (reading 550k entries back to check would only
        // stretch a run that the in-process toolchain must finish within its time limit).
        if (filled)
            ApplyExpectation.AllApplied(writer.Apply(removeAllPlan), "removing every frontend");
        filled = true;
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
