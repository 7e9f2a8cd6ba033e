using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Model.Changes;
using k8s.Models;

namespace CgroupLb.Benchmarks.Planning;

/// <summary>
/// <see cref="ClusterChangeTracker"/> ingesting one EndpointSlice update for every service (a watch burst, e.g. after a
/// node drain) and the <see cref="ClusterChangeTracker.CheckoutChanges"/> that folds them in. Each invocation flips
/// every slice to its other version, so every update is a real change and the tracker never settles into no-ops.
/// </summary>
[MemoryDiagnoser]
public class ChangeTrackerBenchmarks
{
    private const string Source = "bench";
    private ClusterChangeTracker tracker = new("node-a", [Source]);
    private SyntheticCluster cluster = SyntheticCluster.Create(1, 1, 1);
    private bool onChangedVersion;

    [Params(100, 1000, 10000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        cluster = SyntheticCluster.Create(Services, minBackends: 3, maxBackends: 10);
        tracker = new ClusterChangeTracker("node-a", [Source]);
        for (int i = 0; i < Services; i++)
        {
            tracker.OnService(null, cluster.Services[i]);
            tracker.OnEndpointSlice(null, cluster.Slices[i]);
        }
        tracker.OnSynced(Source);
        tracker.CheckoutChanges();
        onChangedVersion = false;

        int changed = IngestAndCheckout();
        if (changed != Services)
            throw new InvalidOperationException($"workload error: {Services} slice updates reported {changed} changed services");
    }

    [Benchmark(Description = "N slice updates + CheckoutChanges")]
    public int IngestAndCheckout()
    {
        IReadOnlyList<V1EndpointSlice> from = onChangedVersion ? cluster.ChangedSlices : cluster.Slices;
        IReadOnlyList<V1EndpointSlice> to = onChangedVersion ? cluster.Slices : cluster.ChangedSlices;
        for (int i = 0; i < to.Count; i++)
            tracker.OnEndpointSlice(from[i], to[i]);
        onChangedVersion = !onChangedVersion;
        return tracker.CheckoutChanges().Services.Count;
    }
}
