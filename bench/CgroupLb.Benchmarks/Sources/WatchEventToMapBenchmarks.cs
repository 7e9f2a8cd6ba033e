using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Sync;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using k8s;
using k8s.Models;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>
/// EndpointSlice MODIFIED events for one Service among <see cref="Services"/>, read from a watch response as the
/// Kubernetes source reads them (<see cref="ResourceApis.EndpointSlices"/>: our line reader and decoder, or with
/// <see cref="Typed"/> KubernetesClient's typed watch) over KubernetesClient's HTTP pipeline with a handler that answers
/// from memory, then (the "to map" case) <see cref="ClusterChangeTracker.OnEndpointSlice"/> and
/// <see cref="LoadBalancerSyncer.SyncOnce"/> into an in-memory writer per event, as <see cref="EventToMapBenchmarks"/>.
/// Each event is real-shaped (managedFields of two managers, a targetRef per endpoint, as an API server sends it).
/// Times and allocations are per event.
/// </summary>
[MemoryDiagnoser]
public class WatchEventToMapBenchmarks
{
    public const int EventsPerStream = 200;
    private const string Source = "bench";

    private byte[] stream = [];
    private ResourceApi<V1EndpointSlice> api = null!;
    private k8s.Kubernetes client = null!;
    private ClusterChangeTracker tracker = null!;
    private LoadBalancerSyncer syncer = null!;
    private V1EndpointSlice previous = null!;

    [Params(10000)]
    public int Services { get; set; }

    /// <summary>True: KubernetesClient's typed watch (whole API objects), as before our watch decoder.</summary>
    [Params(false, true)]
    public bool Typed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var cluster = SyntheticCluster.Create(Services, minBackends: 3, maxBackends: 10);
        tracker = new ClusterChangeTracker("node-a", [Source]);
        syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), new InMemoryLoadBalancerWriter());
        for (var i = 0; i < Services; i++)
        {
            tracker.OnService(null, cluster.Services[i]);
            tracker.OnEndpointSlice(null, cluster.Slices[i]);
        }

        tracker.OnSynced(Source);
        syncer.SyncOnce();

        var changed = Services / 2;
        var body = new StringBuilder();
        for (var i = 0; i < EventsPerStream; i++)
        {
            var slice = i % 2 == 0 ? cluster.ChangedSlices[changed] : cluster.Slices[changed];
            body.Append("{\"type\":\"MODIFIED\",\"object\":").Append(RealShaped(slice, 2000 + i)).Append("}\n");
        }

        stream = Encoding.UTF8.GetBytes(body.ToString());
        client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://watch.invalid" }, new StreamHandler(this));
        api = ResourceApis.EndpointSlices(client, Typed);
        previous = cluster.Slices[changed];

        // The workload must really change the maps at every event, and decode every line.
        var (events, synced) = Read(toMap: true).GetAwaiter().GetResult();
        if (events != EventsPerStream || synced != EventsPerStream)
        {
            throw new InvalidOperationException($"workload error: {events} events read, {synced} partial syncs upserting a frontend, expected {EventsPerStream}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => client.Dispose();

    [Benchmark(Description = "watch line -> decoded EndpointSlice", OperationsPerInvoke = EventsPerStream)]
    public Task<(int, int)> Decode() => Read(toMap: false);

    [Benchmark(Description = "watch line -> OnEndpointSlice -> SyncOnce, 1 of N services changed", OperationsPerInvoke = EventsPerStream)]
    public Task<(int, int)> EventToMap() => Read(toMap: true);

    private async Task<(int Events, int Synced)> Read(bool toMap)
    {
        var events = 0;
        var synced = 0;
        await foreach (var watchEvent in api.Watch("1", 60, e => throw e, CancellationToken.None).ConfigureAwait(false))
        {
            events++;
            if (toMap)
            {
                var current = watchEvent.Object!;
                tracker.OnEndpointSlice(previous, current);
                previous = current;
                if (syncer.SyncOnce() is { Succeeded: true, Kind: SyncKind.Partial, FrontendsUpserted: 1 })
                {
                    synced++;
                }
            }
        }

        return (events, synced);
    }

    /// <summary>The slice as an API server sends it: uid, timestamps, two managers' managedFields, a targetRef per endpoint.</summary>
    private static string RealShaped(V1EndpointSlice slice, int resourceVersion)
    {
        var obj = JsonNode.Parse(KubernetesJson.Serialize(slice))!.AsObject();
        obj["kind"] = "EndpointSlice";
        obj["apiVersion"] = "discovery.k8s.io/v1";
        var metadata = obj["metadata"]!.AsObject();
        metadata["resourceVersion"] = resourceVersion.ToString();
        metadata["uid"] = "6f1c1c2e-0d8a-4a52-9a55-5a3b0c7e9d11";
        metadata["creationTimestamp"] = "2026-11-20T10:00:00Z";
        metadata["generation"] = 7;
        metadata["managedFields"] = new JsonArray(
            new JsonObject
            {
                ["manager"] = "endpointslice-controller.k8s.io", ["operation"] = "Update", ["apiVersion"] = "discovery.k8s.io/v1",
                ["time"] = "2026-11-20T10:00:00Z", ["fieldsType"] = "FieldsV1",
                ["fieldsV1"] = new JsonObject { ["f:addressType"] = new JsonObject(), ["f:endpoints"] = new JsonObject(), ["f:ports"] = new JsonObject() },
            },
            new JsonObject
            {
                ["manager"] = "kube-controller-manager", ["operation"] = "Update", ["apiVersion"] = "discovery.k8s.io/v1",
                ["time"] = "2026-11-20T10:00:01Z", ["fieldsType"] = "FieldsV1",
                ["fieldsV1"] = new JsonObject { ["f:metadata"] = new JsonObject { ["f:labels"] = new JsonObject() } },
            });
        var pod = 0;
        foreach (var endpoint in obj["endpoints"]!.AsArray())
        {
            endpoint!["targetRef"] = new JsonObject
            {
                ["kind"] = "Pod", ["namespace"] = SyntheticCluster.Namespace, ["name"] = $"pod-{pod++:D5}-x7k2q", ["uid"] = "0b7e2c4a-6d3f-4e1a-8c9b-2f5d7a1e3c60",
            };
        }

        return obj.ToJsonString();
    }

    /// <summary>Answers every request with the whole recorded stream, as a watch that sends its events and then ends.</summary>
    private sealed class StreamHandler(WatchEventToMapBenchmarks owner) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                RequestMessage = request,
                Content = new ByteArrayContent(owner.stream) { Headers = { ContentType = new("application/json") } },
            });
    }
}
