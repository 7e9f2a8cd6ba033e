using System.Diagnostics;
using CgroupLb.Benchmarks.Kernel;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Kubernetes;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.FakeApi;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>
/// `--initial-list N [repeats]`: the Kubernetes source's initial list of N Services + N EndpointSlices (10 endpoints
/// each) from the in-process fake API server (real HTTP list, pages of 500) into real kernel maps, split into the list
/// (HTTP, decoding and tracking, until every source said synced) and what follows the list's arrival (the first full
/// sync: checkout, translate, plan, <see cref="BpfMapWriter"/> into empty maps). Each repeat is a fresh source, tracker
/// and writer over emptied maps, as an agent start is. Prints wall and process CPU time and the GC heap after each.
/// <c>--typed-lists</c>: list through KubernetesClient's typed calls instead of our decoder (a separate process each,
/// for peak RSS).
/// </summary>
internal static class InitialListBreakdown
{
    private const int BackendsPerService = 10;

    public static void Run(int services, int repeats, bool typedLists = false)
    {
        KernelRequirement.Demand(nameof(InitialListBreakdown));
        using var maps = BenchmarkMaps.Create(
            serviceEntries: Math.Max((uint)(services * (1 + BackendsPerService) * 5 / 4), 262144),
            backendEntries: Math.Max((uint)(services * BackendsPerService * 5 / 4), 131072));
        var server = FakeApiServer.StartNewAsync().GetAwaiter().GetResult();
        try
        {
            var cluster = SyntheticCluster.Create(services, BackendsPerService, BackendsPerService);
            foreach (var service in cluster.Services) server.Upsert(service);
            foreach (var slice in cluster.Slices) server.Upsert(slice);
            Console.WriteLine($"{(typedLists ? "typed lists (KubernetesClient): " : "our list decoder: ")}Kubernetes initial list of {services} Services + {services} EndpointSlices x {BackendsPerService} endpoints into empty kernel maps, {repeats} repeats (the first includes JIT)");
            for (int r = 0; r < repeats; r++)
            {
                // Empty the maps (what the previous repeat wrote), then a fresh writer adopts them, as at an agent start.
                var cleaner = new BpfMapWriter(maps.Maps, NullLogger.Instance);
                cleaner.Apply(LoadBalancerPlanner.Plan(cleaner.ReadApplied(), new Dictionary<Frontend, LoadBalancerService>()));
                var writer = new BpfMapWriter(maps.Maps, NullLogger.Instance);
                GC.Collect();
                var process = Process.GetCurrentProcess();
                var cpu0 = process.TotalProcessorTime;
                long start = Stopwatch.GetTimestamp();
                var (listed, synced) = ListAndSync(server, writer, typedLists).GetAwaiter().GetResult();
                var total = Stopwatch.GetElapsedTime(start);
                process.Refresh();
                var cpu = process.TotalProcessorTime - cpu0;
                Console.WriteLine($"repeat {r + 1}: list and track {listed.TotalMilliseconds:F0} ms, then first full sync to maps {synced.TotalMilliseconds:F0} ms; " +
                    $"total {total.TotalMilliseconds:F0} ms, process CPU {cpu.TotalMilliseconds:F0} ms; GC heap after {GC.GetTotalMemory(false) / 1e6:F0} MB; " +
                    $"maps hold {writer.ReadApplied().Count} frontends");
            }
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static async Task<(TimeSpan Listed, TimeSpan Synced)> ListAndSync(FakeApiServer server, BpfMapWriter writer, bool typedLists)
    {
        long start = Stopwatch.GetTimestamp();
        using var client = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = server.Host });
        var source = new KubernetesSource(client, new KubernetesSourceOptions { Reflector = new ReflectorOptions { ListPageSize = 500 }, TypedLists = typedLists });
        var tracker = new ClusterChangeTracker("node-a", source.SyncSources);
        var sink = new SyncedSink(tracker);
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(sink, stop.Token);
        await sink.Synced;
        var listed = Stopwatch.GetElapsedTime(start);
        long syncStart = Stopwatch.GetTimestamp();
        var result = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer).SyncOnce();
        var synced = Stopwatch.GetElapsedTime(syncStart);
        await stop.CancelAsync();
        await run;
        if (!result.Succeeded) throw new InvalidOperationException("sync failed", result.Error);
        return (listed, synced);
    }
}
