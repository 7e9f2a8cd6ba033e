using System.Diagnostics;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// The issue's "one endpoint change among N Services, event to map, p99": `--event-latency N [events]` programs N
/// Services of 3-10 endpoints into kernel maps, then sends one EndpointSlice change at a time (each to another
/// Service, spread over the cluster as real churn is) through the tracker, a partial sync and the real
/// <see cref="BpfMapWriter"/>, and prints the distribution of each change's wall time and thread CPU. The agent's
/// --min-sync-period coalescing is not part of it (a change is synced at once). Every change is checked to have
/// upserted exactly one frontend, and the kernel maps' service entry count is checked at the end.
/// </summary>
internal static class EventLatencyProbe
{
    private const string Source = "bench";

    public static void Run(int services, int events, bool preallocate, WriteParallelism parallelism)
    {
        KernelRequirement.Demand(nameof(EventLatencyProbe));
        var cluster = SyntheticCluster.Create(services, minBackends: 3, maxBackends: 10);
        using var maps = BenchmarkMaps.Create(
            serviceEntries: Math.Max((uint)(services * 12), 262144), backendEntries: Math.Max((uint)(services * 12), 131072), preallocate);
        var tracker = new ClusterChangeTracker("node-a", [Source]);
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), new BpfMapWriter(maps.Maps, NullLogger.Instance, parallelism: parallelism));
        for (int i = 0; i < services; i++)
        {
            tracker.OnService(null, cluster.Services[i]);
            tracker.OnEndpointSlice(null, cluster.Slices[i]);
        }
        tracker.OnSynced(Source);
        GC.Collect();
        long firstAllocated = GC.GetAllocatedBytesForCurrentThread();
        var firstCpu0 = ThreadCpuClock.Precise();
        var first = syncer.SyncOnce();
        var firstCpu = ThreadCpuClock.Precise() - firstCpu0;
        firstAllocated = GC.GetAllocatedBytesForCurrentThread() - firstAllocated;
        if (!first.Succeeded || first.Kind != SyncKind.Full || first.FrontendsUpserted != services)
            throw new InvalidOperationException($"first sync: {first.Kind}, {first.FrontendsUpserted} upserted, error {first.Error?.Message ?? "none"}");
        int expectedEntries = maps.Maps.ReadServiceEntries().Count;

        // Warm-up: one change of each of a few Services, so the first samples are not JIT.
        var order = cluster.SpreadIndexes(Math.Min(services, events));
        var onChanged = new bool[services];
        void Change(int service)
        {
            var from = onChanged[service] ? cluster.ChangedSlices[service] : cluster.Slices[service];
            var to = onChanged[service] ? cluster.Slices[service] : cluster.ChangedSlices[service];
            onChanged[service] = !onChanged[service];
            tracker.OnEndpointSlice(from, to);
            var result = syncer.SyncOnce();
            if (!result.Succeeded || result.Kind != SyncKind.Partial || result.FrontendsUpserted != 1)
                throw new InvalidOperationException($"change of service {service}: {result.Kind}, {result.FrontendsUpserted} upserted, error {result.Error?.Message ?? "none"}");
        }
        for (int w = 0; w < 200; w++)
            Change(order[w % order.Count]);

        var wall = new double[events];
        var cpu = new double[events];
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int e = 0; e < events; e++)
        {
            var cpu0 = ThreadCpuClock.Precise();
            long start = Stopwatch.GetTimestamp();
            Change(order[e % order.Count]);
            wall[e] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            cpu[e] = (ThreadCpuClock.Precise() - cpu0).TotalMicroseconds;
        }
        long perEvent = (GC.GetAllocatedBytesForCurrentThread() - allocated) / events;
        int entries = maps.Maps.ReadServiceEntries().Count;
        if (entries != expectedEntries)
            throw new InvalidOperationException($"the maps hold {entries} service entries after the changes, {expectedEntries} before: a change lost or added entries");

        Console.WriteLine($"event to kernel maps, {events} EndpointSlice changes among {services} Services (3-10 endpoints){(preallocate ? ", preallocated maps" : "")}; " +
            $"{Environment.ProcessorCount} CPUs, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine($"  first (full) sync through the syncer, cold: wall {first.Duration.TotalMilliseconds:F1} ms, thread CPU {firstCpu.TotalMilliseconds:F1} ms, allocated {firstAllocated / 1e6:F1} MB");
        Console.WriteLine($"  wall, us:       {Percentiles(wall)}");
        Console.WriteLine($"  thread CPU, us: {Percentiles(cpu)} (CLOCK_THREAD_CPUTIME_ID; GC work done on this thread included)");
        Console.WriteLine($"  allocated {perEvent} B per change; GC during the changes {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}");
    }

    private static string Percentiles(double[] samples)
    {
        var sorted = samples.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return $"p50 {At(0.50):0} p90 {At(0.90):0} p99 {At(0.99):0} p99.9 {At(0.999):0} max {sorted[^1]:0}";
    }
}
