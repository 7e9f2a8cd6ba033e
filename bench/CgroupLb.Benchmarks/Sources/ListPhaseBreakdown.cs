using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using CgroupLb.Benchmarks.Kernel;
using CgroupLb.Benchmarks.Sync;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Kubernetes;
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
/// `--list-phases N [repeats] [--page P] [--memory]`: where the Kubernetes source's initial list goes once its bytes
/// have arrived. The list pages of N Services + N EndpointSlices (10 endpoints each) are fetched once from the fake API
/// server and then replayed to KubernetesClient by an in-process HTTP handler (no socket, no server work), so each
/// repeat measures only our side: KubernetesClient's JSON decoding, the reflectors' stores and deliveries, the
/// tracker, and the first full sync into empty kernel maps (<c>--memory</c>: an in-memory writer). Per phase: this
/// thread's CPU (getrusage), the process's CPU, and the bytes allocated. Odd repeats run the real
/// <see cref="LoadBalancerSyncer.SyncOnce"/>; even repeats split the same work into its steps.
/// </summary>
internal static class ListPhaseBreakdown
{
    private const int BackendsPerService = 10;

    public static void Run(int services, int repeats, int pageSize, bool inMemory)
    {
        if (!inMemory) KernelRequirement.Demand(nameof(ListPhaseBreakdown));
        using var maps = inMemory ? null : BenchmarkMaps.Create(
            serviceEntries: Math.Max((uint)(services * (1 + BackendsPerService) * 5 / 4), 262144),
            backendEntries: Math.Max((uint)(services * BackendsPerService * 5 / 4), 131072));
        var recorded = RecordPages(services, pageSize).GetAwaiter().GetResult();
        Console.WriteLine($"initial list of {services} Services + {services} EndpointSlices x {BackendsPerService}, pages of {pageSize} " +
            $"({recorded.Values.Sum(p => p.Length) / 1e6:F1} MB of JSON) replayed in-process, into {(inMemory ? "an in-memory writer" : "empty kernel maps")}; " +
            $"{repeats} repeats (the first includes JIT); CPU = this thread, proc = the whole process");
        for (int r = 0; r < repeats; r++)
        {
            ILoadBalancerWriter writer = inMemory ? new InMemoryLoadBalancerWriter() : EmptiedWriter(maps!);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            // 1. KubernetesClient's decoding alone, of the same bytes.
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

            // 2. The source as the agent runs it: decode, store, deliver, track, until every kind said synced.
            var tracker = new ClusterChangeTracker("node-a", [KubernetesSource.ServicesSource, KubernetesSource.EndpointSlicesSource]);
            var sink = new TimedSink(tracker);
            using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://replay.invalid" }, new ReplayHandler(recorded));
            var source = new KubernetesSource(client, new KubernetesSourceOptions { Reflector = new ReflectorOptions { ListPageSize = pageSize } });
            using var stop = new CancellationTokenSource();
            var list = Phase.Start();
            var run = source.RunAsync(sink, stop.Token);
            sink.Synced.GetAwaiter().GetResult();
            var listed = list.Stop();

            // 3. The first full sync.
            string syncLine;
            var sync = Phase.Start();
            if (r % 2 == 0)
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
            stop.Cancel();
            run.GetAwaiter().GetResult();

            Console.WriteLine($"repeat {r + 1}: decode alone {decoded}; parse alone {parsed.Short}");
            Console.WriteLine($"    list to synced {listed} (of it in the tracker: {sink.TrackerCpu.TotalMilliseconds:F0} ms CPU)");
            Console.WriteLine($"    {syncLine}");
            Console.WriteLine($"    after list+sync {(listed.Wall + sync.Elapsed).TotalMilliseconds:F0} ms wall; GC heap held {heap / 1e6:F0} MB (tracker, syncer and writer alive)");
        }
    }

    private static string SyncInSteps(ClusterChangeTracker tracker, ILoadBalancerWriter writer)
    {
        var steps = new List<string>();
        var step = Phase.Start();
        var changes = tracker.CheckoutChanges();
        steps.Add($"checkout {step.Stop().Short}");
        step = Phase.Start();
        var before = ImmutableDictionary.CreateRange(writer.ReadApplied());
        steps.Add($"read maps {step.Stop().Short}");
        step = Phase.Start();
        var desired = new ServiceTranslator("node-a").Translate(changes.State);
        steps.Add($"translate {step.Stop().Short}");
        step = Phase.Start();
        before = LoadBalancerPlanner.AdoptOwners(before, desired);
        var plan = LoadBalancerPlanner.Plan(before, desired);
        steps.Add($"plan {step.Stop().Short}");
        step = Phase.Start();
        var written = writer.Apply(plan);
        steps.Add($"apply {step.Stop().Short}");
        ApplyExpectation.AllApplied(written, "the initial plan");
        step = Phase.Start();
        var applied = LoadBalancerPlanner.ApplyTo(before, plan);
        _ = FrontendOwnerIndex.Build(applied);
        steps.Add($"applied view + owners {step.Stop().Short}");
        return string.Join(", ", steps);
    }

    private static BpfMapWriter EmptiedWriter(BenchmarkMaps maps)
    {
        var cleaner = new BpfMapWriter(maps.Maps, NullLogger.Instance);
        cleaner.Apply(LoadBalancerPlanner.Plan(cleaner.ReadApplied(), new Dictionary<Frontend, LoadBalancerService>()));
        return new BpfMapWriter(maps.Maps, NullLogger.Instance);
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
