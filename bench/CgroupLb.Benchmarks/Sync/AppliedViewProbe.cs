using System.Collections.Immutable;
using System.Diagnostics;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;

namespace CgroupLb.Benchmarks.Sync;

/// <summary>
/// What the syncer's bookkeeping around the write costs (issue 8): `--applied N [repeats] [events]` runs, per repeat,
/// (1) the first full sync's steps one by one, as the syncer runs them on its applied table updated in place, on N
/// Services x 10 endpoints with an in-memory writer: read back, translate, adopt owners, plan, write, the removed
/// backends, the table after the write, the owner index; (2) a whole first <see cref="LoadBalancerSyncer.SyncOnce"/>
/// on a fresh syncer (and, before it, the tracker's first checkout alone on a twin tracker, and its parts);
/// (3) `events` one-Service partial syncs (an EndpointSlice flip each); (4) as many checkouts alone after one
/// EndpointSlice flip each, on the twin. Thread CPU
/// (CLOCK_THREAD_CPUTIME_ID) and bytes allocated by this thread per step. A probe: compare builds by interleaving runs.
/// </summary>
internal static class AppliedViewProbe
{
    private const string Source = "bench";
    private const int BackendsPerService = 10;

    public static void Run(int services, int repeats, int events)
    {
        var cluster = SyntheticCluster.Create(services, BackendsPerService, BackendsPerService);
        var state = cluster.State([]);
        Console.WriteLine($"applied view probe: {services} x {BackendsPerService}, in-memory writer, {repeats} repeats (the first includes JIT), {events} partial syncs per repeat; CPU = thread CPU, ms; MB allocated by this thread");
        for (int r = 0; r < repeats; r++)
        {
            GC.Collect();
            var steps = new List<(string Name, TimeSpan Cpu, long Bytes)>();
            T Step<T>(string name, Func<T> work)
            {
                long bytes = GC.GetAllocatedBytesForCurrentThread();
                var cpu = ThreadCpuClock.Precise();
                T result = work();
                steps.Add((name, ThreadCpuClock.Precise() - cpu, GC.GetAllocatedBytesForCurrentThread() - bytes));
                return result;
            }

            // (1) The first sync's steps as the syncer runs them, on its own table updated in place.
            var stepWriter = new InMemoryLoadBalancerWriter();
            var translator = new ServiceTranslator("node-a");
            var table = Step("read back", () => new Dictionary<Frontend, LoadBalancerService>(stepWriter.ReadApplied()));
            var desired = Step("translate", () => translator.Translate(state));
            Step("AdoptOwners (in place)", () => { LoadBalancerPlanner.AdoptOwners(table, desired); return 0; });
            var plan = Step("plan", () => LoadBalancerPlanner.Plan(table, desired));
            Step("write (in memory)", () => stepWriter.Apply(plan));
            Step("RemovedBackends.FindApplied", () => RemovedBackends.FindApplied(table, plan));
            Step("ApplyInPlace", () => { LoadBalancerPlanner.ApplyInPlace(table, plan); return 0; });
            var owners = Step("FrontendOwnerIndex.Build", () => FrontendOwnerIndex.Build(table));

            // The same after-write steps for a partial sync of one Service among N.
            var one = new LoadBalancerPlan([plan.Upserts[services / 2]], []);
            Step("partial: FindApplied", () => RemovedBackends.FindApplied(table, one));
            Step("partial: ApplyInPlace", () => { LoadBalancerPlanner.ApplyInPlace(table, one); return 0; });
            Step("partial: owners.Follow", () => { owners.Follow(table, one); return 0; });

            // (2) A whole first sync (and what its tracker checkout costs, on a twin tracker).
            var twin = Tracker(cluster, services);
            var firstCheckout = Step("tracker checkout (twin)", () => twin.CheckoutChanges());
            CheckoutParts(firstCheckout.State, Step<object>);
            var tracker = Tracker(cluster, services);
            var writer = new InMemoryLoadBalancerWriter();
            var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
            GC.Collect();
            int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
            var first = Step("WHOLE first SyncOnce", () => syncer.SyncOnce());
            string gcs = $"{GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}";
            if (!first.Succeeded || first.Kind != SyncKind.Full || first.FrontendsUpserted != services)
                throw new InvalidOperationException($"workload error: first sync {first.Kind} upserted {first.FrontendsUpserted} of {services}");

            // (3) Partial syncs of one Service each.
            var cpu = new double[events];
            long partialBytes = 0;
            var flipped = new bool[services];
            for (int e = 0; e < events; e++)
            {
                int index = (int)((e * 7919L) % services);
                bool changed = flipped[index];
                flipped[index] = !changed;
                tracker.OnEndpointSlice(changed ? cluster.ChangedSlices[index] : cluster.Slices[index], changed ? cluster.Slices[index] : cluster.ChangedSlices[index]);
                long b0 = GC.GetAllocatedBytesForCurrentThread();
                var c0 = ThreadCpuClock.Precise();
                var result = syncer.SyncOnce();
                cpu[e] = (ThreadCpuClock.Precise() - c0).TotalMicroseconds;
                partialBytes += GC.GetAllocatedBytesForCurrentThread() - b0;
                if (!result.Succeeded || result.Kind != SyncKind.Partial || result.FrontendsUpserted != 1)
                    throw new InvalidOperationException($"workload error: event {e}: sync {result.Kind} upserted {result.FrontendsUpserted}");
            }
            Array.Sort(cpu);

            // (4) The tracker's checkout alone after one EndpointSlice flip (on the twin, which (2) did not touch).
            var checkoutCpu = new double[events];
            long checkoutBytes = 0;
            Array.Clear(flipped);
            for (int e = 0; e < events; e++)
            {
                int index = (int)((e * 7919L) % services);
                bool changed = flipped[index];
                flipped[index] = !changed;
                twin.OnEndpointSlice(changed ? cluster.ChangedSlices[index] : cluster.Slices[index], changed ? cluster.Slices[index] : cluster.ChangedSlices[index]);
                long b0 = GC.GetAllocatedBytesForCurrentThread();
                var c0 = ThreadCpuClock.Precise();
                var changes = twin.CheckoutChanges();
                checkoutCpu[e] = (ThreadCpuClock.Precise() - c0).TotalMicroseconds;
                checkoutBytes += GC.GetAllocatedBytesForCurrentThread() - b0;
                if (changes.Services.Count != 1)
                    throw new InvalidOperationException($"workload error: checkout {e} has {changes.Services.Count} services");
            }
            Array.Sort(checkoutCpu);

            Console.WriteLine($"repeat {r + 1}:");
            foreach (var (name, time, bytes) in steps)
                Console.WriteLine($"    {name,-32} {time.TotalMilliseconds,9:F3} ms {bytes / 1e6,9:F3} MB");
            Console.WriteLine($"    GCs gen0/1/2 during the whole first sync: {gcs}; wall {first.Duration.TotalMilliseconds:F1} ms");
            Console.WriteLine($"    partial checkout  CPU p50 {checkoutCpu[events / 2]:F1} us, p99 {checkoutCpu[events * 99 / 100]:F1} us, mean {checkoutCpu.Average():F1} us; {checkoutBytes / (double)events / 1e3:F2} KB per checkout");
            Console.WriteLine($"    partial SyncOnce  CPU p50 {cpu[events / 2]:F1} us, p99 {cpu[events * 99 / 100]:F1} us, mean {cpu.Average():F1} us; {partialBytes / (double)events / 1e3:F2} KB per sync");
        }
    }

    /// <summary>
    /// What a first checkout's parts cost on their own, rebuilt from the checked-out state (bench-only copies, to see
    /// which step costs what): hashing the names, the set of changed names main's tracker made, the two tables as
    /// main built them (<see cref="ImmutableDictionary"/> builders, or CreateRange) and as the tracker builds them now
    /// (<see cref="PersistentHashMap{TKey,TValue}"/> builders). Each step runs on its own, so where a GC falls moves
    /// cost between them: read them over several repeats.
    /// </summary>
    private static void CheckoutParts(ClusterState state, Func<string, Func<object>, object> step)
    {
        var services = state.Services.ToArray();
        var slices = state.SlicesByService.ToArray();
        step("  part: hash N ServiceNames", () => { int h = 0; foreach (var pair in services) h ^= pair.Key.GetHashCode(); return h; });
        step("  part: HashSet of N names", () => new HashSet<ServiceName>(services.Select(p => p.Key)));
        step("  part: services via builder", () =>
        {
            var b = ImmutableDictionary<ServiceName, ServiceSnapshot>.Empty.ToBuilder();
            foreach (var pair in services) b[pair.Key] = pair.Value;
            return b.ToImmutable();
        });
        step("  part: slices via builder", () =>
        {
            var b = ImmutableDictionary<ServiceName, ImmutableArray<EndpointSliceInfo>>.Empty.ToBuilder();
            foreach (var pair in slices) b[pair.Key] = pair.Value;
            return b.ToImmutable();
        });
        step("  part: services CreateRange", () => ImmutableDictionary.CreateRange(services));
        step("  part: services PersistentHashMap", () =>
        {
            var b = PersistentHashMap<ServiceName, ServiceSnapshot>.Empty.ToBuilder();
            foreach (var pair in services) b[pair.Key] = pair.Value;
            return b.ToImmutable();
        });
        step("  part: slices PersistentHashMap", () =>
        {
            var b = PersistentHashMap<ServiceName, ImmutableArray<EndpointSliceInfo>>.Empty.ToBuilder();
            foreach (var pair in slices) b[pair.Key] = pair.Value;
            return b.ToImmutable();
        });
    }

    private static ClusterChangeTracker Tracker(SyntheticCluster cluster, int services)
    {
        var tracker = new ClusterChangeTracker("node-a", [Source]);
        for (int i = 0; i < services; i++)
        {
            tracker.OnService(null, cluster.Services[i]);
            tracker.OnEndpointSlice(null, cluster.Slices[i]);
        }
        tracker.OnSynced(Source);
        return tracker;
    }
}
