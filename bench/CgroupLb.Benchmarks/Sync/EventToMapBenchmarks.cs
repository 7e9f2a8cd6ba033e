using System.Net;
using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using k8s.Models;

namespace CgroupLb.Benchmarks.Sync;

/// <summary>
/// One EndpointSlice update travelling through the model: <see cref="ClusterChangeTracker.OnEndpointSlice"/> for one
/// service among <see cref="Services"/>, then <see cref="LoadBalancerSyncer.SyncOnce"/> (a partial sync: checkout,
/// translate the changed service, plan, apply) into an in-memory writer. It is the agent's event-to-map latency minus
/// the kernel writes and the MinSyncInterval coalescing delay.
/// </summary>
[MemoryDiagnoser]
public class EventToMapBenchmarks
{
    private const string Source = "bench";
    private SyntheticCluster cluster = SyntheticCluster.Create(1, 1, 1);
    private ClusterChangeTracker tracker = new("node-a", [Source]);
    private LoadBalancerSyncer syncer = null!;
    private InMemoryLoadBalancerWriter writer = new();
    private int changedService;
    private bool onChangedVersion;

    [Params(1000, 10000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        cluster = SyntheticCluster.Create(Services, minBackends: 3, maxBackends: 10);
        tracker = new ClusterChangeTracker("node-a", [Source]);
        writer = new InMemoryLoadBalancerWriter();
        syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
        for (int i = 0; i < Services; i++)
        {
            tracker.OnService(null, cluster.Services[i]);
            tracker.OnEndpointSlice(null, cluster.Slices[i]);
        }
        tracker.OnSynced(Source);
        Expect(syncer.SyncOnce(), SyncKind.Full, upserted: Services);

        changedService = Services / 2;
        onChangedVersion = false;
        // Both directions once, checking that the update really reaches the writer.
        var frontend = new Frontend(BenchAddresses.ClusterIp(changedService % BenchAddresses.MaxClusterIps), (ushort)SyntheticCluster.ServicePortOf(changedService), L4Protocol.Tcp);
        IPAddress sparePod = IPAddress.Parse(cluster.ChangedSlices[changedService].Endpoints[^1].Addresses[0]);
        Expect(UpdateOneServiceAndSync(), SyncKind.Partial, upserted: 1);
        if (!writer[frontend].Backends.Any(b => b.Address.Equals(sparePod)))
            throw new InvalidOperationException($"workload error: {frontend} did not receive backend {sparePod}");
        Expect(UpdateOneServiceAndSync(), SyncKind.Partial, upserted: 1);
    }

    [Benchmark(Description = "OnEndpointSlice -> SyncOnce, 1 of N services changed")]
    public SyncResult UpdateOneServiceAndSync()
    {
        V1EndpointSlice from = onChangedVersion ? cluster.ChangedSlices[changedService] : cluster.Slices[changedService];
        V1EndpointSlice to = onChangedVersion ? cluster.Slices[changedService] : cluster.ChangedSlices[changedService];
        onChangedVersion = !onChangedVersion;
        tracker.OnEndpointSlice(from, to);
        return syncer.SyncOnce();
    }

    private void Expect(SyncResult result, SyncKind kind, int upserted)
    {
        if (!result.Succeeded || result.Kind != kind || result.FrontendsUpserted != upserted || writer.Count != Services)
            throw new InvalidOperationException(
                $"workload error: sync {result.Kind} upserted {result.FrontendsUpserted} (expected {kind}, {upserted}); " +
                $"writer holds {writer.Count} of {Services} frontends; error: {result.Error?.Message ?? "none"}");
    }
}
