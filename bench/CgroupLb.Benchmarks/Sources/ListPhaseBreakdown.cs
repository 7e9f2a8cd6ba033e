using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using CgroupLb.Benchmarks.Kernel;
using CgroupLb.Benchmarks.Sync;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Kubernetes;
using CgroupLb.Kubernetes.Decoding;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.FakeApi;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>
/// `--list-phases N [repeats] [--page P] [--memory] [--real-shaped]`: where the Kubernetes source's initial list goes
/// once its bytes have arrived, with our list decoder and (interleaved, alternating which goes first) with
/// KubernetesClient's typed lists (<see cref="KubernetesSourceOptions.TypedLists"/>). <c>--real-shaped</c> gives every
/// recorded object what a real API server adds (managedFields, a last-applied-configuration annotation on Services,
/// targetRefs on endpoints), which the fake server's objects lack. The list pages of N Services + N EndpointSlices
/// (10 endpoints each) are fetched once from the fake API server and then replayed to KubernetesClient's HTTP pipeline
/// by an in-process handler (no socket, no server work), so each repeat measures only our side: the JSON decoding,
/// the reflectors' stores and deliveries, the tracker, and the first full sync into empty kernel maps (<c>--memory</c>:
/// an in-memory writer). Per phase: this thread's CPU (getrusage), the process's CPU, and the bytes allocated.
/// Repeats 1-2 of every 4 run the real <see cref="LoadBalancerSyncer.SyncOnce"/>; 3-4 split the same work into its steps.
/// </summary>
internal static class ListPhaseBreakdown
{
    private const int BackendsPerService = 10;

    public static void Run(int services, int repeats, int pageSize, bool inMemory, bool realShaped = false)
    {
        if (!inMemory) KernelRequirement.Demand(nameof(ListPhaseBreakdown));
        using var maps = inMemory ? null : BenchmarkMaps.Create(
            serviceEntries: Math.Max((uint)(services * (1 + BackendsPerService) * 5 / 4), 262144),
            backendEntries: Math.Max((uint)(services * BackendsPerService * 5 / 4), 131072));
        var recorded = RecordPages(services, pageSize).GetAwaiter().GetResult();
        if (realShaped) recorded = recorded.ToDictionary(p => p.Key, p => RealShaped(p.Value), StringComparer.Ordinal);
        Console.WriteLine($"initial list of {services} Services + {services} EndpointSlices x {BackendsPerService}, pages of {pageSize} " +
            $"({recorded.Values.Sum(p => p.Length) / 1e6:F1} MB of JSON{(realShaped ? ", real-shaped" : "")}) replayed in-process, into {(inMemory ? "an in-memory writer" : "empty kernel maps")}; " +
            $"{repeats} repeats (the first includes JIT); CPU = this thread, proc = the whole process");
        for (int r = 0; r < repeats; r++)
        {
            ILoadBalancerWriter writer = inMemory ? new InMemoryLoadBalancerWriter() : EmptiedWriter(maps!);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            // 1. Decoding alone, of the same bytes: KubernetesClient's (into whole V1 objects), then ours.
            var decode = Phase.Start();
            var lists = new List<object>();
            foreach (var (key, bytes) in recorded)
            {
                using var stream = new MemoryStream(bytes);
                lists.Add(key.StartsWith("/api/v1/services", StringComparison.Ordinal)
                    ? KubernetesJson.Deserialize<V1ServiceList>(stream)
                    : KubernetesJson.Deserialize<V1EndpointSliceList>(stream));
            }
            var decoded = decode.Stop();
            lists.Clear();
            GC.Collect();
            // Ours keeps every page's objects too, as the line above does, so both pay the GC for holding 20k objects.
            var ownDecode = Phase.Start();
            var ownItems = 0;
            foreach (var (key, bytes) in recorded)
            {
                object page = key.StartsWith("/api/v1/services", StringComparison.Ordinal) ? ListPageJson.Services(bytes) : ListPageJson.EndpointSlices(bytes);
                lists.Add(page);
                ownItems += page is ResourceListPage<V1Service> servicePage ? servicePage.Items.Count : ((ResourceListPage<V1EndpointSlice>)page).Items.Count;
            }
            var ownDecoded = ownDecode.Stop();
            lists.Clear();
            if (ownItems != 2 * services) throw new InvalidOperationException($"our decoder read {ownItems} objects, expected {2 * services}");
            foreach (var (key, bytes) in recorded)
            {
                using var stream = new MemoryStream(bytes);
                lists.Add(key.StartsWith("/api/v1/services", StringComparison.Ordinal)
                    ? KubernetesJson.Deserialize<V1ServiceList>(stream)
                    : KubernetesJson.Deserialize<V1EndpointSliceList>(stream));
            }
            // 1b. The model's parse alone, of the decoded objects.
            var parser = new ClusterObjectParser();
            var parse = Phase.Start();
            foreach (var l in lists)
            {
                if (l is V1ServiceList sl) foreach (var s in sl.Items) parser.ParseService(s);
                else foreach (var e in ((V1EndpointSliceList)l).Items) parser.ParseEndpointSlice(e);
            }
            var parsed = parse.Stop();
            lists.Clear();
            GC.Collect();

            // 2. The source as the agent runs it: decode, store, deliver, track, until every kind said synced. Both list
            // paths, alternating which goes first; the first sync below runs on the second one's tracker.
            var listLines = new List<string>();
            ClusterChangeTracker tracker = null!;
            foreach (var typed in r % 2 == 0 ? new[] { true, false } : [false, true])
            {
                GC.Collect();
                tracker = new ClusterChangeTracker("node-a", [KubernetesSource.ServicesSource, KubernetesSource.EndpointSlicesSource]);
                var sink = new TimedSink(tracker);
                using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://replay.invalid" }, new ReplayHandler(recorded));
                var source = new KubernetesSource(client, new KubernetesSourceOptions { Reflector = new ReflectorOptions { ListPageSize = pageSize }, TypedLists = typed });
                using var stopList = new CancellationTokenSource();
                var list = Phase.Start();
                var running = source.RunAsync(sink, stopList.Token);
                sink.Synced.GetAwaiter().GetResult();
                var listed = list.Stop();
                long held = GC.GetTotalMemory(true);
                stopList.Cancel();
                running.GetAwaiter().GetResult();
                listLines.Add($"    list to synced, {(typed ? "typed (KubernetesClient)" : "ours")}: {listed} (of it in the tracker: {sink.TrackerCpu.TotalMilliseconds:F0} ms CPU); GC heap held {held / 1e6:F0} MB");
            }
            var listedLast = listLines[^1];
            // 3. The first full sync.
            string syncLine;
            var sync = Phase.Start();
            if (r % 4 < 2)
            {
                var result = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer).SyncOnce();
                if (!result.Succeeded) throw new InvalidOperationException("sync failed", result.Error);
                syncLine = $"SyncOnce {sync.Stop()}";
            }
            else
            {
                syncLine = SyncInSteps(tracker, writer) + $"; all {sync.Stop()}";
            }
            long heap = GC.GetTotalMemory(true);
            GC.KeepAlive(tracker);

            Console.WriteLine($"repeat {r + 1}: decode alone, KubernetesClient {decoded}; ours {ownDecoded}; parse alone {parsed.Short}");
            foreach (var line in listLines) Console.WriteLine(line);
            Console.WriteLine($"    {syncLine} (on the {(r % 2 == 0 ? "ours" : "typed")} tracker); GC heap held {heap / 1e6:F0} MB (tracker, syncer and writer alive)");
            _ = listedLast;
        }
    }

    private static string SyncInSteps(ClusterChangeTracker tracker, ILoadBalancerWriter writer)
    {
        var steps = new List<string>();
        var step = Phase.Start();
        var changes = tracker.CheckoutChanges();
        steps.Add($"checkout {step.Stop().Short}");
        step = Phase.Start();
        // As the syncer does: its own table, updated in place after the write.
        var before = new Dictionary<Frontend, LoadBalancerService>(writer.ReadApplied());
        steps.Add($"read maps {step.Stop().Short}");
        step = Phase.Start();
        var desired = new ServiceTranslator("node-a").Translate(changes.State);
        steps.Add($"translate {step.Stop().Short}");
        step = Phase.Start();
        LoadBalancerPlanner.AdoptOwners(before, desired);
        var plan = LoadBalancerPlanner.Plan(before, desired);
        steps.Add($"plan {step.Stop().Short}");
        step = Phase.Start();
        var written = writer.Apply(plan);
        steps.Add($"apply {step.Stop().Short}");
        ApplyExpectation.AllApplied(written, "the initial plan");
        step = Phase.Start();
        LoadBalancerPlanner.ApplyInPlace(before, plan);
        _ = FrontendOwnerIndex.Build(before);
        steps.Add($"applied view + owners {step.Stop().Short}");
        return string.Join(", ", steps);
    }

    private static BpfMapWriter EmptiedWriter(BenchmarkMaps maps)
    {
        var cleaner = new BpfMapWriter(maps.Maps, NullLogger.Instance);
        cleaner.Apply(LoadBalancerPlanner.Plan(cleaner.ReadApplied(), new Dictionary<Frontend, LoadBalancerService>()));
        return new BpfMapWriter(maps.Maps, NullLogger.Instance);
    }

    /// <summary>
    /// A page with what a real API server adds to each object: managedFields (two managers), on Services a
    /// kubectl last-applied-configuration annotation holding a copy of the object, on endpoints a targetRef.
    /// </summary>
    private static byte[] RealShaped(byte[] page)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(page)!.AsObject();
        foreach (var item in root["items"]!.AsArray())
        {
            var obj = item!.AsObject();
            var metadata = obj["metadata"]!.AsObject();
            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = "2026-11-20T10:00:00Z";
            metadata["generation"] = 1;
            var fields = new System.Text.Json.Nodes.JsonObject();
            foreach (var (name, _) in obj) if (name is not ("metadata" or "kind" or "apiVersion")) fields["f:" + name] = new System.Text.Json.Nodes.JsonObject { ["."] = new System.Text.Json.Nodes.JsonObject() };
            metadata["managedFields"] = new System.Text.Json.Nodes.JsonArray(
                new System.Text.Json.Nodes.JsonObject
                {
                    ["manager"] = obj.ContainsKey("spec") ? "kubectl-client-side-apply" : "kube-controller-manager",
                    ["operation"] = "Update", ["apiVersion"] = "v1", ["time"] = "2026-11-20T10:00:00Z", ["fieldsType"] = "FieldsV1",
                    ["fieldsV1"] = fields.DeepClone(),
                },
                new System.Text.Json.Nodes.JsonObject
                {
                    ["manager"] = "kube-controller-manager", ["operation"] = "Update", ["apiVersion"] = "v1", ["time"] = "2026-11-20T10:00:01Z",
                    ["fieldsType"] = "FieldsV1", ["fieldsV1"] = new System.Text.Json.Nodes.JsonObject { ["f:metadata"] = new System.Text.Json.Nodes.JsonObject { ["f:labels"] = new System.Text.Json.Nodes.JsonObject() } },
                });
            if (obj.ContainsKey("spec"))
            {
                var annotations = metadata["annotations"]?.AsObject() ?? new System.Text.Json.Nodes.JsonObject();
                annotations["kubectl.kubernetes.io/last-applied-configuration"] = obj["spec"]!.ToJsonString();
                metadata["annotations"] = annotations;
            }
            if (obj["endpoints"] is System.Text.Json.Nodes.JsonArray endpoints)
            {
                foreach (var endpoint in endpoints)
                {
                    endpoint!["targetRef"] = new System.Text.Json.Nodes.JsonObject
                    {
                        ["kind"] = "Pod", ["namespace"] = (string?)metadata["namespace"], ["name"] = "pod-" + Guid.NewGuid().ToString("N")[..10], ["uid"] = Guid.NewGuid().ToString(),
                    };
                }
            }
        }
        return System.Text.Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>Every list page's body as the fake API server sends it, keyed by path and continue token.</summary>
    private static async Task<Dictionary<string, byte[]>> RecordPages(int services, int pageSize)
    {
        await using var server = await FakeApiServer.StartNewAsync();
        var cluster = SyntheticCluster.Create(services, BackendsPerService, BackendsPerService);
        foreach (var service in cluster.Services) server.Upsert(service);
        foreach (var slice in cluster.Slices) server.Upsert(slice);
        using var http = new HttpClient { BaseAddress = new Uri(server.Host) };
        var pages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in new[] { "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices" })
        {
            string? token = null;
            do
            {
                var bytes = await http.GetByteArrayAsync($"{path}?limit={pageSize}{(token is null ? "" : "&continue=" + Uri.EscapeDataString(token))}");
                pages[ReplayHandler.Key(path, token)] = bytes;
                using var doc = System.Text.Json.JsonDocument.Parse(bytes);
                token = doc.RootElement.GetProperty("metadata").TryGetProperty("continue", out var next) ? next.GetString() : null;
                if (string.IsNullOrEmpty(token)) token = null;
            }
            while (token is not null);
        }
        return pages;
    }

    /// <summary>Answers list requests from the recorded pages; a watch hangs until cancelled, as a quiet cluster's does.</summary>
    private sealed class ReplayHandler(Dictionary<string, byte[]> pages) : DelegatingHandler
    {
        public static string Key(string path, string? continueToken) => $"{path}|{continueToken}";

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var query = System.Web.HttpUtility.ParseQueryString(request.RequestUri!.Query);
            if (query["watch"] == "true")
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            var key = Key(request.RequestUri.AbsolutePath, query["continue"]);
            if (!pages.TryGetValue(key, out var body))
            {
                Console.Error.WriteLine($"replay: no recorded page for {request.RequestUri}");
                return new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request, Content = new StringContent($"no recorded page {key}") };
            }
            return new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request, Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } } };
        }
    }

    /// <summary>Forwards to the tracker, adding up the thread CPU spent inside it, and completes <see cref="Synced"/>.</summary>
    private sealed class TimedSink(ClusterChangeTracker tracker) : IClusterChangeSink
    {
        private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Synced => synced.Task;

        public TimeSpan TrackerCpu { get; private set; }

        public void OnService(V1Service? previous, V1Service? current) => Timed(() => tracker.OnService(previous, current));

        public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current) => Timed(() => tracker.OnEndpointSlice(previous, current));

        public void OnNode(V1Node? previous, V1Node? current) => Timed(() => tracker.OnNode(previous, current));

        public void OnServiceHeld(ServiceName service, bool held) => tracker.OnServiceHeld(service, held);

        public void OnSynced(string source)
        {
            tracker.OnSynced(source);
            if (tracker.IsSynced) synced.TrySetResult();
        }

        private void Timed(Action action)
        {
            var start = ThreadCpuClock.Now();
            action();
            TrackerCpu += ThreadCpuClock.Now() - start;
        }
    }

    private readonly record struct PhaseResult(TimeSpan Wall, TimeSpan Cpu, TimeSpan ProcessCpu, long Allocated, int Gen0, int Gen2)
    {
        public string Short => $"{Cpu.TotalMilliseconds:F0} ms CPU/{Allocated / 1e6:F1} MB";

        public override string ToString() =>
            $"{Wall.TotalMilliseconds:F0} ms wall, {Cpu.TotalMilliseconds:F0} ms CPU, {ProcessCpu.TotalMilliseconds:F0} ms proc, {Allocated / 1e6:F1} MB allocated, GC {Gen0}/{Gen2}";
    }

    private readonly struct Phase
    {
        private readonly long start;
        private readonly TimeSpan cpu, processCpu;
        private readonly long allocated;
        private readonly int gen0, gen2;

        private Phase(long start, TimeSpan cpu, TimeSpan processCpu, long allocated, int gen0, int gen2) =>
            (this.start, this.cpu, this.processCpu, this.allocated, this.gen0, this.gen2) = (start, cpu, processCpu, allocated, gen0, gen2);

        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(start);

        public static Phase Start() => new(Stopwatch.GetTimestamp(), ThreadCpuClock.Now(), Process.GetCurrentProcess().TotalProcessorTime,
            GC.GetTotalAllocatedBytes(true), GC.CollectionCount(0), GC.CollectionCount(2));

        public PhaseResult Stop() => new(Stopwatch.GetElapsedTime(start), ThreadCpuClock.Now() - cpu,
            Process.GetCurrentProcess().TotalProcessorTime - processCpu, GC.GetTotalAllocatedBytes(true) - allocated,
            GC.CollectionCount(0) - gen0, GC.CollectionCount(2) - gen2);
    }
}
