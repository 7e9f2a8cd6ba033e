using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// The in-memory <see cref="Sync.EventToMapBenchmarks"/> with the real writer: one EndpointSlice update among 1000
/// services, through tracker, partial sync and <see cref="BpfMapWriter"/> into kernel maps. The difference between the
/// two is what the bpf() syscalls of one changed frontend cost.
/// </summary>
[MemoryDiagnoser]
public class EventToKernelMapBenchmarks
{
    private const string Source = "bench";
    private BenchmarkMaps? maps;
    private SyntheticCluster cluster = null!;
    private ClusterChangeTracker tracker = null!;
    private LoadBalancerSyncer syncer = null!;
    private int changedService;
    private bool onChangedVersion;

    [GlobalSetup]
    public void Setup()
    {
        KernelRequirement.Demand(nameof(EventToKernelMapBenchmarks));
        maps = BenchmarkMaps.Create();
        try
        {
            cluster = KernelWorkload.Cluster();
            tracker = new ClusterChangeTracker("node-a", [Source]);
            syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), new BpfMapWriter(maps.Maps, NullLogger.Instance));
            for (int i = 0; i < cluster.ServiceCount; i++)
            {
                tracker.OnService(null, cluster.Services[i]);
                tracker.OnEndpointSlice(null, cluster.Slices[i]);
            }
            tracker.OnSynced(Source);
            Expect(syncer.SyncOnce(), SyncKind.Full, KernelWorkload.Services);
            KernelWorkload.ExpectKernelHolds(maps.Maps, KernelWorkload.Services, "after the first full sync");

            changedService = cluster.ServiceCount / 2;
            onChangedVersion = false;
            Expect(UpdateOneServiceAndSync(), SyncKind.Partial, 1);
            Expect(UpdateOneServiceAndSync(), SyncKind.Partial, 1);
            KernelWorkload.ExpectKernelHolds(maps.Maps, KernelWorkload.Services, "after updating one service twice");
        }
        catch
        {
            Cleanup();
            throw;
        }
    }

    [Benchmark(Description = "OnEndpointSlice -> SyncOnce -> kernel maps, 1 of 1000 changed")]
    public SyncResult UpdateOneServiceAndSync()
    {
        V1EndpointSlice from = onChangedVersion ? cluster.ChangedSlices[changedService] : cluster.Slices[changedService];
        V1EndpointSlice to = onChangedVersion ? cluster.Slices[changedService] : cluster.ChangedSlices[changedService];
        onChangedVersion = !onChangedVersion;
        tracker.OnEndpointSlice(from, to);
        return syncer.SyncOnce();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        maps?.Dispose();
        maps = null;
    }

    private static void Expect(SyncResult result, SyncKind kind, int upserted)
    {
        if (!result.Succeeded || result.Kind != kind || result.FrontendsUpserted != upserted)
            throw new InvalidOperationException(
                $"sync {result.Kind} upserted {result.FrontendsUpserted} (expected {kind}, {upserted}); error: {result.Error?.Message ?? "none"}");
    }
}
