using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Sync;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Kubernetes;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.FakeApi;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>
/// The Kubernetes source's initial list of N Services and N EndpointSlices from the in-process fake API server (real
/// HTTP list protocol, pages of 500), through the tracker, to the first full sync into an in-memory writer.
/// </summary>
[MemoryDiagnoser]
public class KubernetesInitialListBenchmarks
{
    private FakeApiServer? server;

    [Params(10000)]
    public int Services { get; set; }

    /// <summary>True: KubernetesClient's typed list calls (whole API objects), as before our list decoder.</summary>
    [Params(false, true)]
    public bool TypedLists { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        server = FakeApiServer.StartNewAsync().GetAwaiter().GetResult();
        var cluster = SyntheticCluster.Create(Services, minBackends: 3, maxBackends: 10);
        foreach (var service in cluster.Services) server.Upsert(service);
        foreach (var slice in cluster.Slices) server.Upsert(slice);
        var programmed = ListToMaps().GetAwaiter().GetResult();
        if (programmed != Services)
            throw new InvalidOperationException($"workload error: {programmed} frontends programmed, expected {Services}");
    }

    [GlobalCleanup]
    public void Cleanup() => server?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "Kubernetes initial list to maps (list, track, sync)")]
    public async Task<int> ListToMaps()
    {
        var client = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = server!.Host });
        var source = new KubernetesSource(client, new KubernetesSourceOptions { Reflector = new ReflectorOptions { ListPageSize = 500 }, TypedLists = TypedLists });
        var tracker = new ClusterChangeTracker("node-a", source.SyncSources);
        var writer = new InMemoryLoadBalancerWriter();
        var sink = new SyncedSink(tracker);
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(sink, stop.Token);
        await sink.Synced;
        var result = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer).SyncOnce();
        await stop.CancelAsync();
        await run;
        client.Dispose();
        if (!result.Succeeded) throw new InvalidOperationException("sync failed", result.Error);
        return writer.Count;
    }
}
