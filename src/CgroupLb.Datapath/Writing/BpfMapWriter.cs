using System.Collections.Immutable;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Status;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// Applies plans to the load-balancer maps so that a concurrent connect() sees the old or the new backend set of every
/// frontend, never a slot that points nowhere. The order holds for the plan as a whole, one batch per step (a step of
/// more than <see cref="BatchEntries"/> service entries in several, all before the next step):
/// <list type="number">
/// <item>every frontend is checked against the limits first; one that does not fit is refused alone;</item>
/// <item>all backends the plan adds (one batch), then fresh ids' counters and names (a large plan's beside the backends
/// and slots: only a master makes them read);</item>
/// <item>all changed slots 1..n (each slot always names a backend of the old or the new set);</item>
/// <item>all master entries with a new count or flags, which is what makes a grown set visible;</item>
/// <item>slots beyond a shrunk count, deleted only after their master stopped pointing at them;</item>
/// <item>removed frontends: masters first (new connects pass untouched), then their slots and names;</item>
/// <item>backends no frontend uses any more, last.</item>
/// </list>
/// When a batch fails part-way, the upserts are written again frontend by frontend, each rolled back to what it held
/// if it fails, so one bad frontend costs only itself. Refused frontends are listed in the result and recorded in
/// lb4_refused (lb6_refused), where `cgroup-lb status` finds them. A frontend with more backends than
/// <see cref="LbLimits.MaxBackendSlots"/> gets the <see cref="BackendSubset"/>. Not thread-safe: one syncer owns it.
/// IPv4 and IPv6 frontends go through the same steps, each family to its own maps (<see cref="ServiceEntryBatch"/>),
/// with one service id space and one backend id space; a family the node cannot use is refused as unsupported.
/// With a <see cref="WriteParallelism"/> above 1, a step larger than its chunk size is split into chunks written by
/// several threads at once (<see cref="ConcurrentBatchCalls"/>), all of a step before the next starts; the names and
/// fresh counters of a large plan are written beside the backends and slots, before the first master. Smaller steps,
/// every partial sync's among them, are written on the calling thread as before.
/// </summary>
internal sealed class BpfMapWriter : ILoadBalancerWriter
{
    private readonly ILoadBalancerMaps maps;
    private readonly ILogger logger;
    private readonly Dictionary<Frontend, AppliedFrontend> applied = [];
    private readonly BackendTable backends;
    private readonly IdAllocator serviceIds;
    private readonly Dictionary<Frontend, Lb4Refused> refusals = [];
    private readonly PlanWork work = new();
    private readonly bool ipv6;
    private readonly WriteParallelism parallelism;
    private readonly ConcurrentBatchCalls calls;
    private long serviceEntries;
    private long serviceEntries6;

    /// <param name="ipv6">False on a node without IPv6: IPv6 frontends are refused as unsupported, and not logged one by one.</param>
    /// <param name="parallelism">
    /// How many of a large step's calls may run at once; null = <see cref="WriteParallelism.Off"/>. Anything else only over maps
    /// that may be called from several threads at once.
    /// </param>
    public BpfMapWriter(ILoadBalancerMaps maps, ILogger logger, bool ipv6 = true, WriteParallelism? parallelism = null)
    {
        this.maps = maps;
        this.logger = logger;
        this.ipv6 = ipv6;
        this.parallelism = parallelism ?? WriteParallelism.Off;
        calls = new ConcurrentBatchCalls(this.parallelism.Degree);
        backends = new BackendTable(maps.BackendCapacity);
        serviceIds = new IdAllocator(1, maps.ServiceIdLimit - 1);
        Reload();
    }

    public IReadOnlyDictionary<Frontend, LoadBalancerService> ReadApplied()
    {
        // Re-read the kernel: a full sync must diff against what the maps hold, not against our memory of them.
        Reload();
        return applied.ToDictionary(kv => kv.Key, kv => kv.Value.Service);
    }

    public IReadOnlyCollection<Frontend> ReadRefused() => [.. refusals.Keys];

    /// <summary>
    /// Compares the kernel with this writer's record of what it wrote, without building a model of it: every entry of
    /// lb4/lb6_services against the value its frontend's master or slot must hold, every id in use in lb4/lb6_backends_v2
    /// against the backend table, the refusal maps against their records, and the entry counts, so a missing, changed
    /// or foreign entry returns false. Reads every entry (batched, about N masters + slots + backends) and compares raw
    /// values. lb_svc_names (read only by status) and the stats are not compared; the reload a mismatch leads to
    /// rewrites a damaged frontend whole, name included.
    /// </summary>
    public bool VerifyApplied()
    {
        var masters4 = new Dictionary<Lb4ServiceKey, AppliedFrontend>(applied.Count);
        var masters6 = new Dictionary<Lb6ServiceKey, AppliedFrontend>();
        long expected4 = 0, expected6 = 0;
        foreach (var (frontend, f) in applied)
        {
            if (f.Damaged || !f.HasServiceId || Array.IndexOf(f.SlotBackendIds, 0u) >= 0)
                return false; // known to differ already: only the reload and a rewrite settle it
            var key = ServiceEntryKey.Master(frontend);
            if (key.IsIPv6)
            {
                masters6[key.V6] = f;
                expected6 += 1 + f.SlotBackendIds.Length;
            }
            else
            {
                masters4[key.V4] = f;
                expected4 += 1 + f.SlotBackendIds.Length;
            }
        }

        var entries4 = maps.ReadServiceEntries();
        if (entries4.Count != expected4)
            return false;
        foreach (var (key, value) in entries4)
        {
            if (!masters4.TryGetValue(key.WithSlot(0), out var f) || !TryExpectedEntry(f, key.BackendSlot, out Backend? backend, out uint id))
                return false;
            var want = backend is null
                ? LbServiceValue.Master(f.ServiceId, (ushort)f.SlotBackendIds.Length, f.Service.Flags, f.Service.AffinityTimeoutSeconds)
                : LbServiceValue.Slot(f.ServiceId, id, backend.Value);
            if (!SameBytes(want, value))
                return false;
        }
        var entries6 = maps.ReadServiceEntries6();
        if (entries6.Count != expected6)
            return false;
        foreach (var (key, value) in entries6)
        {
            if (!masters6.TryGetValue(key.WithSlot(0), out var f) || !TryExpectedEntry(f, key.BackendSlot, out Backend? backend, out uint id))
                return false;
            var want = backend is null
                ? Lb6ServiceValue.Master(f.ServiceId, (ushort)f.SlotBackendIds.Length, f.Service.Flags, f.Service.AffinityTimeoutSeconds)
                : Lb6ServiceValue.Slot(f.ServiceId, id, backend.Value);
            if (!SameBytes(want, value))
                return false;
        }

        var backends4 = maps.ReadBackends();
        var backends6 = maps.ReadBackends6();
        if (backends4.Count + backends6.Count != backends.Count)
            return false;
        foreach (var (id, value) in backends4)
        {
            if (!backends.TryGetBackend(id, out var b) || b.Address.AddressFamily != AddressFamily.InterNetwork
                || !Lb4Backend.Create(b.Address, b.Port, (byte)b.Protocol).Equals(value))
                return false;
        }
        foreach (var (id, value) in backends6)
        {
            if (!backends.TryGetBackend(id, out var b) || b.Address.AddressFamily != AddressFamily.InterNetworkV6
                || !Lb6Backend.Create(b.Address, b.Port, (byte)b.Protocol).Equals(value))
                return false;
        }

        var refused4 = maps.ReadRefused();
        var refused6 = maps.ReadRefused6();
        if (refused4.Count + refused6.Count != refusals.Count)
            return false;
        foreach (var (key, record) in refused4)
        {
            if (!refusals.TryGetValue(new ServiceEntryKey(key).Frontend, out var want) || !SameRecord(want, record))
                return false;
        }
        foreach (var (key, record) in refused6)
        {
            if (!refusals.TryGetValue(new ServiceEntryKey(key).Frontend, out var want) || !SameRecord(want, record))
                return false;
        }
        return true;
    }

    /// <summary>
    /// Which backend slot <paramref name="slot"/> of a written frontend names (null with id 0 for slot 0, its master);
    /// false for a slot beyond its count.
    /// </summary>
    private bool TryExpectedEntry(AppliedFrontend f, ushort slot, out Backend? backend, out uint id)
    {
        backend = null;
        id = 0;
        if (slot == 0)
            return true;
        if (slot > f.SlotBackendIds.Length)
            return false;
        id = f.SlotBackendIds[slot - 1];
        if (!backends.TryGetBackend(id, out var b))
            return false;
        backend = b;
        return true;
    }

    private static bool SameBytes<T>(in T a, in T b) where T : unmanaged =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in b)));

    public ApplyResult Apply(LoadBalancerPlan plan)
    {
        work.Clear();
        if (applied.Count == 0)
            PresizeForFirstPlan(plan);
        List<RefusedFrontend>? refused = null;
        foreach (var service in plan.Upserts)
        {
            if (Admit(service) is { } refusal)
                (refused ??= []).Add(refusal);
        }

        if (work.Upserts.Count > 0)
        {
            try
            {
                WriteUpsertsBatched();
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "A batched write of {Count} frontends failed; writing them one by one", work.Upserts.Count);
                WriteUpsertsOneByOne(ref refused);
            }
            foreach (var p in work.Upserts)
            {
                if (!p.Failed)
                    Commit(p);
            }
        }

        DeleteFrontends(plan.Deletes, ref refused);
        DeleteUnreferencedBackends();
        RecordRefusals(plan, refused);
        if (work.ReleaseIfLarge())
            calls.ReleaseBuffers();
        return refused is null ? ApplyResult.Applied : new ApplyResult([.. refused]);
    }

    /// <summary>
    /// A first sync (nothing written yet) of 10k frontends x 10 would otherwise grow every table by doubling, about
    /// twenty rehashes each of up to 100k entries and the garbage of every smaller copy. Only then: sizing a live
    /// writer's tables by a plan's length would keep room for frontends that are merely rewritten.
    /// </summary>
    private void PresizeForFirstPlan(LoadBalancerPlan plan)
    {
        int frontends = plan.Upserts.Length;
        if (frontends < 64)
            return;
        int slots = 0;
        foreach (var service in plan.Upserts)
            slots += Math.Min(service.Backends.Length, LbLimits.MaxBackendSlots);
        applied.EnsureCapacity(frontends);
        serviceIds.EnsureCapacity(frontends);
        backends.EnsureCapacity((int)Math.Min(slots, backends.Capacity));
        work.Upserts.EnsureCapacity(frontends);
        work.Ids.EnsureCapacity(frontends);
        work.Names.EnsureCapacity(frontends);
        work.Entries.EnsureCapacity(Math.Min(frontends + slots, BatchEntries + LbLimits.MaxBackendSlots));
        work.NewBackendIds.EnsureCapacity(slots);
        work.NewBackendValues.EnsureCapacity(slots);
    }

    /// <summary>
    /// Checks one upsert against every limit and reserves what it needs (service id, backend ids, map entries), or
    /// refuses it. Unchanged frontends return at once without allocating: a steady-state plan costs nothing per service.
    /// </summary>
    private RefusedFrontend? Admit(LoadBalancerService service)
    {
        var frontend = service.Frontend;
        if (UnsupportedReason(service) is { } unsupported)
            return new RefusedFrontend(service, RefusalReason.Unsupported, unsupported);

        applied.TryGetValue(frontend, out var old);
        if (old is not null && !old.Damaged && old.Service.Equals(service))
        {
            if (refusals.TryGetValue(frontend, out var record) && record.Reason != (uint)LbRefusalReason.Subset)
                work.ClearedRefusals.Add(frontend); // asked again for what it holds: whatever was refused is moot
            return null;
        }

        var programmed = BackendSubset.Select(frontend, service.Backends, LbLimits.MaxBackendSlots);
        int n = programmed.Length;
        bool isIPv6 = frontend.Address.AddressFamily == AddressFamily.InterNetworkV6;
        long growth = old is null ? 1 + n : Math.Max(0, n - old.SlotBackendIds.Length);
        long used = isIPv6 ? serviceEntries6 + work.EntryGrowth6 : serviceEntries + work.EntryGrowth;
        uint capacity = isIPv6 ? maps.ServiceEntryCapacity6 : maps.ServiceEntryCapacity;
        if (used + growth > capacity)
            return new RefusedFrontend(service, RefusalReason.ServiceMapFull,
                $"{(isIPv6 ? "lb6_services" : "lb4_services")} is full: {used} of {capacity} entries used, this frontend needs {growth} more");

        uint serviceId;
        bool newId = false;
        if (old is { HasServiceId: true })
            serviceId = old.ServiceId;
        else if (serviceIds.TryAllocate(out serviceId))
            newId = true;
        else
            return new RefusedFrontend(service, RefusalReason.NoServiceId, $"no free service id (all {maps.ServiceIdLimit - 1} in use)");

        var ids = n == 0 ? [] : new uint[n];
        var newIds = isIPv6 ? work.NewBackendIds6 : work.NewBackendIds;
        int createdFrom = newIds.Count;
        for (int i = 0; i < n; i++)
        {
            var backend = programmed[i];
            if (!backends.TryAcquire(backend, out ids[i], out bool created))
            {
                // Give back what this frontend took, so the frontends after it see the room it did not use.
                for (int j = 0; j < i; j++)
                    backends.Release(ids[j]);
                for (int j = createdFrom; j < newIds.Count; j++)
                    backends.Discard(newIds[j]);
                if (isIPv6)
                    work.NewBackendValues6.RemoveRange(createdFrom, newIds.Count - createdFrom);
                else
                    work.NewBackendValues.RemoveRange(createdFrom, newIds.Count - createdFrom);
                newIds.RemoveRange(createdFrom, newIds.Count - createdFrom);
                if (newId)
                    serviceIds.Release(serviceId);
                return new RefusedFrontend(service, RefusalReason.BackendMapFull,
                    $"the backend maps are full: {backends.Count} of {backends.Capacity} backends, this frontend adds new ones");
            }
            if (created)
            {
                newIds.Add(ids[i]);
                if (isIPv6)
                    work.NewBackendValues6.Add(Lb6Backend.Create(backend.Address, backend.Port, (byte)backend.Protocol));
                else
                    work.NewBackendValues.Add(Lb4Backend.Create(backend.Address, backend.Port, (byte)backend.Protocol));
            }
        }

        if (isIPv6)
            work.EntryGrowth6 += growth;
        else
            work.EntryGrowth += growth;
        work.Upserts.Add(new PendingUpsert(service, programmed, old, serviceId, newId, ids, ServiceEntryKey.Master(frontend)));
        return null;
    }

    private string? UnsupportedReason(LoadBalancerService service)
    {
        var frontend = service.Frontend;
        var family = frontend.Address.AddressFamily;
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            return $"address family {family} is not supported by this data path";
        if (family == AddressFamily.InterNetworkV6 && !ipv6)
            return "IPv6 is disabled on this node";
        if (frontend.Protocol is not (L4Protocol.Tcp or L4Protocol.Udp))
            return $"protocol {frontend.Protocol} is not supported";
        foreach (var b in service.Backends)
        {
            // A frontend's slots live in its family's map; a v4-mapped IPv6 socket reaches IPv4 frontends instead.
            if (b.Address.AddressFamily != family)
                return $"backend {b} is not of the frontend's address family";
        }
        return null;
    }

    /// <summary>A refusal that is the node's, not the Service's: recorded for status, not logged per frontend.</summary>
    private bool IsNodeFamilyRefusal(RefusedFrontend r) =>
        !ipv6 && r.Reason == RefusalReason.Unsupported && r.Frontend.Address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>
    /// Every admitted upsert, one batch per step (split into chunks on several threads when large), in the order the
    /// class comment gives. Returns or throws only when no call it started is still running: the per-frontend
    /// fallback after a failure rewrites every upsert and rolls back the failed ones, which is exact whatever the
    /// chunks of the failed step wrote, as long as none of them writes beside it.
    /// </summary>
    private void WriteUpsertsBatched()
    {
        work.NewServiceIds.Clear();
        work.Ids.Clear();
        work.Names.Clear();
        foreach (var p in work.Upserts)
        {
            if (p.NewId)
                work.NewServiceIds.Add(p.ServiceId);
            if (p.NeedsName)
            {
                work.Ids.Add(p.ServiceId);
                work.Names.Add(p.Service.Name);
            }
        }

        // Names and counters are read (by status, by a restarted agent's adoption) only through a master: written beside
        // the backends and slots and finished before the first master, they keep that promise.
        Task? countersAndNames = null;
        try
        {
            if (parallelism.IsParallel && work.Ids.Count >= NamesAlongsideMinimum)
                countersAndNames = ConcurrentBatchCalls.OnPool(WriteCountersAndNames);

            WriteNewBackends();
            if (countersAndNames is null)
                WriteCountersAndNames();

            WriteServiceEntryStep(static (p, entries) => p.AddChangedSlots(entries), delete: false);

            if (countersAndNames is not null)
            {
                var pending = countersAndNames;
                countersAndNames = null;
                pending.GetAwaiter().GetResult();
            }

            WriteServiceEntryStep(static (p, entries) =>
            {
                if (p.NeedsMaster)
                    p.AddMaster(entries);
            }, delete: false);

            WriteServiceEntryStep(static (p, entries) => p.AddShrunkSlots(entries), delete: true);
        }
        finally
        {
            // A failed step before the join: the fallback must not run beside this write (it rewrites the names anyway).
            if (countersAndNames is not null)
            {
                try
                {
                    countersAndNames.Wait();
                }
                catch (AggregateException)
                {
                    // The step's own failure is the one reported.
                }
            }
        }
    }

    /// <summary>Names of at least this many services go beside the backends and slots: 10k of them take 7-12 ms.</summary>
    private const int NamesAlongsideMinimum = 2048;

    private void WriteCountersAndNames()
    {
        if (work.NewServiceIds.Count > 0)
            maps.ResetStats(CollectionsMarshal.AsSpan(work.NewServiceIds));
        if (work.Ids.Count > 0)
            maps.WriteNames(CollectionsMarshal.AsSpan(work.Ids), CollectionsMarshal.AsSpan(work.Names));
    }

    /// <summary>All backends the plan adds: one call per family, or chunks on several threads when there are many.</summary>
    private void WriteNewBackends()
    {
        int chunk = parallelism.ChunkEntries;
        if (!parallelism.IsParallel || work.NewBackendIds.Count + work.NewBackendIds6.Count <= chunk)
        {
            if (work.NewBackendIds.Count > 0)
                maps.UpdateBackends(CollectionsMarshal.AsSpan(work.NewBackendIds), CollectionsMarshal.AsSpan(work.NewBackendValues));
            if (work.NewBackendIds6.Count > 0)
                maps.UpdateBackends6(CollectionsMarshal.AsSpan(work.NewBackendIds6), CollectionsMarshal.AsSpan(work.NewBackendValues6));
            return;
        }

        try
        {
            // The lists stay as they are until Finish: each call reads its own range of them.
            for (int from = 0; from < work.NewBackendIds.Count; from += chunk)
            {
                int start = from, count = Math.Min(chunk, work.NewBackendIds.Count - from);
                calls.Write(() => maps.UpdateBackends(CollectionsMarshal.AsSpan(work.NewBackendIds).Slice(start, count),
                    CollectionsMarshal.AsSpan(work.NewBackendValues).Slice(start, count)));
            }
            for (int from = 0; from < work.NewBackendIds6.Count; from += chunk)
            {
                int start = from, count = Math.Min(chunk, work.NewBackendIds6.Count - from);
                calls.Write(() => maps.UpdateBackends6(CollectionsMarshal.AsSpan(work.NewBackendIds6).Slice(start, count),
                    CollectionsMarshal.AsSpan(work.NewBackendValues6).Slice(start, count)));
            }
        }
        catch (Exception ex) when (calls.Busy)
        {
            calls.Fail(ex);
        }
        calls.Finish();
    }

    /// <summary>
    /// One service-map step over every upsert: <paramref name="add"/> puts an upsert's entries of this step into the
    /// buffer. On one thread in batches of up to <see cref="BatchEntries"/>, every batch before the next step (the order
    /// holds as with one batch per step, and the buffer stays about a megabyte instead of every slot of a 50k sync). In
    /// parallel, each full chunk goes to a pool thread while this thread builds the next (or is written here when the
    /// pool threads the degree allows are busy); the last is written here.
    /// </summary>
    private void WriteServiceEntryStep(Action<PendingUpsert, ServiceEntryBatch> add, bool delete)
    {
        var entries = work.Entries;
        entries.Clear();
        int limit = parallelism.IsParallel ? Math.Min(parallelism.ChunkEntries, BatchEntries) : BatchEntries;
        try
        {
            foreach (var p in work.Upserts)
            {
                add(p, entries);
                if (entries.Count < limit)
                    continue;
                if (parallelism.IsParallel)
                {
                    var full = entries;
                    entries = calls.Write(delete ? () => full.Delete(maps) : () => full.Update(maps), full)!;
                }
                else
                {
                    WriteAndClear(entries, delete);
                }
            }
            WriteAndClear(entries, delete);
        }
        catch (Exception ex) when (calls.Busy)
        {
            calls.Fail(ex);
        }
        finally
        {
            entries.Clear();
            work.Entries = entries;
        }
        calls.Finish();
    }

    /// <summary>Service-map entries per batch call: a syscall per 32k entries costs nothing, a 550k-entry buffer does.</summary>
    private const int BatchEntries = 32768;

    private void WriteAndClear(ServiceEntryBatch entries, bool delete)
    {
        if (delete)
            entries.Delete(maps);
        else
            entries.Update(maps);
        entries.Clear();
    }

    /// <summary>
    /// The fallback after a failed batch: each frontend written alone in the same order (backends, slots, master,
    /// shrunk slots). Entries a failed batch already wrote are written again with the same values, which is harmless.
    /// A frontend that fails is rolled back to what it held and refused; the others are written.
    /// </summary>
    private void WriteUpsertsOneByOne(ref List<RefusedFrontend>? refused)
    {
        var created = new Dictionary<uint, Lb4Backend>(work.NewBackendIds.Count);
        for (int i = 0; i < work.NewBackendIds.Count; i++)
            created[work.NewBackendIds[i]] = work.NewBackendValues[i];
        var created6 = new Dictionary<uint, Lb6Backend>(work.NewBackendIds6.Count);
        for (int i = 0; i < work.NewBackendIds6.Count; i++)
            created6[work.NewBackendIds6[i]] = work.NewBackendValues6[i];

        var ids = new List<uint>();
        var values = new List<Lb4Backend>();
        var values6 = new List<Lb6Backend>();
        var entries = new ServiceEntryBatch();
        foreach (var p in work.Upserts)
        {
            try
            {
                // Every backend of this frontend the plan adds, also those another frontend of the plan added first:
                // that frontend may have been refused, and the batch that wrote them may not have got this far.
                ids.Clear();
                values.Clear();
                values6.Clear();
                foreach (uint id in p.Ids)
                {
                    if (created.TryGetValue(id, out var value))
                    {
                        ids.Add(id);
                        values.Add(value);
                    }
                    else if (created6.TryGetValue(id, out var value6))
                    {
                        ids.Add(id);
                        values6.Add(value6);
                    }
                }
                if (values.Count > 0)
                    maps.UpdateBackends(CollectionsMarshal.AsSpan(ids), CollectionsMarshal.AsSpan(values));
                else if (values6.Count > 0)
                    maps.UpdateBackends6(CollectionsMarshal.AsSpan(ids), CollectionsMarshal.AsSpan(values6));
                if (p.NewId)
                    maps.ResetStats([p.ServiceId]);
                if (p.NeedsName)
                    maps.WriteNames([p.ServiceId], [p.Service.Name]);
                entries.Clear();
                p.AddChangedSlots(entries);
                entries.Update(maps);
                if (p.NeedsMaster)
                {
                    entries.Clear();
                    p.AddMaster(entries);
                    entries.Update(maps);
                }
                entries.Clear();
                p.AddShrunkSlots(entries);
                entries.Delete(maps);
            }
            catch (Exception ex)
            {
                p.Failed = true;
                RollBack(p, ex);
                foreach (uint id in p.Ids)
                    backends.Release(id);
                if (p.NewId)
                    serviceIds.Release(p.ServiceId);
                (refused ??= []).Add(new RefusedFrontend(p.Service, RefusalReason.WriteFailed, $"writing the maps failed: {ex.Message}"));
            }
        }
    }

    /// <summary>
    /// Puts one frontend back to what it held before a failed write: its old slots and master, or nothing at all for a
    /// frontend that was new. If even that fails, the writer no longer knows what the maps hold: it reloads from the
    /// kernel and throws, and the caller's next sync diffs everything.
    /// </summary>
    private void RollBack(PendingUpsert p, Exception cause)
    {
        var frontend = p.Service.Frontend;
        try
        {
            var old = p.Old;
            var entries = new ServiceEntryBatch();
            if (old is null)
            {
                entries.AddKey(p.Key);
                entries.Delete(maps);
                entries.Clear();
                AddSlotKeys(entries, p.Key, 1, p.Ids.Length);
                entries.Delete(maps);
            }
            else
            {
                for (int i = 0; i < old.SlotBackendIds.Length; i++)
                {
                    if (old.SlotBackendIds[i] == 0)
                        continue;
                    AddSlotValue(entries, p.Key.WithSlot((ushort)(i + 1)), old.ServiceId, old.SlotBackendIds[i]);
                }
                entries.Update(maps);
                entries.Clear();
                var s = old.Service;
                entries.AddMaster(p.Key, old.ServiceId, (ushort)old.SlotBackendIds.Length, s.Flags, s.AffinityTimeoutSeconds);
                entries.Update(maps);
                entries.Clear();
                AddSlotKeys(entries, p.Key, old.SlotBackendIds.Length + 1, p.Ids.Length);
                entries.Delete(maps);
            }
            if (p.NewId)
                maps.DeleteNames([p.ServiceId]);
            logger.LogWarning(cause, "Writing {Frontend} ({Service}) failed; rolled it back to what it held", frontend, p.Service.Name);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Rolling back {Frontend} failed; reloading state from the kernel maps", frontend);
            Reload();
            throw new MapWriteException(frontend, $"write failed ({cause.Message}) and so did its rollback ({ex.Message})", ex);
        }
    }

    private void Commit(PendingUpsert p)
    {
        var old = p.Old;
        if (old is not null)
        {
            foreach (uint id in old.SlotBackendIds)
                backends.Release(id);
        }
        if (p.Key.IsIPv6)
            serviceEntries6 += 1 + p.Ids.Length - (old?.Entries ?? 0);
        else
            serviceEntries += 1 + p.Ids.Length - (old?.Entries ?? 0);
        applied[p.Service.Frontend] = new AppliedFrontend(p.ServiceId, p.Ids, p.Service, 1 + p.Ids.Length);
        // Guarded: the call boxes its arguments into an array before the level check, per frontend of a 50k sync.
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("Programmed {Frontend} ({Service}) with {Count} backends as service id {ServiceId}",
                p.Service.Frontend, p.Service.Name, p.Ids.Length, p.ServiceId);
    }

    /// <summary>Removed frontends: all masters first (one batch), then all their slots, then their names.</summary>
    private void DeleteFrontends(ImmutableArray<Frontend> deletes, ref List<RefusedFrontend>? refused)
    {
        if (deletes.IsDefaultOrEmpty)
            return;
        work.ClearEntries();
        work.Ids.Clear();
        var removed = new List<AppliedFrontend>();
        foreach (var frontend in deletes)
        {
            if (applied.TryGetValue(frontend, out var old))
                removed.Add(old);
        }
        if (removed.Count == 0)
            return;

        HashSet<Frontend>? failed = null;
        try
        {
            foreach (var old in removed)
                work.Entries.AddKey(ServiceEntryKey.Master(old.Service.Frontend));
            work.Entries.Delete(maps);
            work.ClearEntries();
            foreach (var old in removed)
            {
                AddSlotKeys(work.Entries, ServiceEntryKey.Master(old.Service.Frontend), 1, old.SlotBackendIds.Length);
                if (old.HasServiceId)
                    work.Ids.Add(old.ServiceId);
            }
            work.Entries.Delete(maps);
            maps.DeleteNames(CollectionsMarshal.AsSpan(work.Ids));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "A batched delete of {Count} frontends failed; deleting them one by one", removed.Count);
            foreach (var old in removed)
            {
                var key = ServiceEntryKey.Master(old.Service.Frontend);
                var entries = new ServiceEntryBatch();
                try
                {
                    entries.AddKey(key);
                    entries.Delete(maps);
                    entries.Clear();
                    AddSlotKeys(entries, key, 1, old.SlotBackendIds.Length);
                    entries.Delete(maps);
                    if (old.HasServiceId)
                        maps.DeleteNames([old.ServiceId]);
                }
                catch (Exception one)
                {
                    // Kept as applied: the next full sync reads what is left of it and deletes it again.
                    (failed ??= []).Add(old.Service.Frontend);
                    (refused ??= []).Add(new RefusedFrontend(old.Service, RefusalReason.WriteFailed, $"deleting it from the maps failed: {one.Message}"));
                }
            }
        }

        foreach (var old in removed)
        {
            if (failed is not null && failed.Contains(old.Service.Frontend))
                continue;
            foreach (uint id in old.SlotBackendIds)
                backends.Release(id);
            if (old.HasServiceId)
                serviceIds.Release(old.ServiceId);
            if (old.Service.Frontend.Address.AddressFamily == AddressFamily.InterNetworkV6)
                serviceEntries6 -= old.Entries;
            else
                serviceEntries -= old.Entries;
            applied.Remove(old.Service.Frontend);
            if (logger.IsEnabled(LogLevel.Debug))
                logger.LogDebug("Removed {Frontend} ({Service})", old.Service.Frontend, old.Service.Name);
        }
    }

    private void DeleteUnreferencedBackends()
    {
        var stale = backends.TakeUnreferenced(out var stale6);
        if (stale.Count == 0 && stale6.Count == 0)
            return;
        try
        {
            if (stale.Count > 0)
                maps.DeleteBackends(CollectionsMarshal.AsSpan(stale));
            if (stale6.Count > 0)
                maps.DeleteBackends6(CollectionsMarshal.AsSpan(stale6));
        }
        catch (Exception ex)
        {
            // Harmless to leave them: no slot points at them. The next reload collects them again.
            logger.LogWarning(ex, "Deleting {Count} unused backends failed; they will be collected on the next full sync", stale.Count + stale6.Count);
        }
    }

    /// <summary>
    /// Brings lb4_refused in line with this plan's outcome: a record for each refused (or subset) frontend, none for
    /// frontends written in full or removed. A record that is new or changed is also the one log line about it, so a
    /// frontend refused on every retry is logged once.
    /// </summary>
    private void RecordRefusals(LoadBalancerPlan plan, List<RefusedFrontend>? refused)
    {
        if (refused is null && refusals.Count == 0 && !HasSubset())
            return; // the common case: nothing refused before or now
        var upserts = new Dictionary<Frontend, Lb4Refused>();
        var clears = new HashSet<Frontend>();
        if (refused is not null)
        {
            foreach (var r in refused)
            {
                if (r.Frontend.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
                {
                    logger.LogWarning("Frontend {Frontend} of Service {Service} refused ({Reason}): {Detail}",
                        r.Frontend, r.Service.Name, r.Reason.Label(), r.Detail);
                    continue;
                }
                var reason = ToAbi(r.Reason);
                var record = Lb4Refused.Create(reason, (uint)r.Service.Backends.Length, LimitOf(reason), r.Service.Name, r.Detail);
                if (!refusals.TryGetValue(r.Frontend, out var existing) || !SameRecord(existing, record))
                {
                    upserts[r.Frontend] = record;
                    if (IsNodeFamilyRefusal(r))
                        continue; // said once at startup (LoadBalancerDatapath); the record is for status
                    logger.LogWarning("Frontend {Frontend} of Service {Service} refused ({Reason}): {Detail}; other frontends are written, this one is retried",
                        r.Frontend, r.Service.Name, r.Reason.Label(), r.Detail);
                }
            }
        }
        foreach (var p in work.Upserts)
        {
            if (p.Failed)
                continue;
            var frontend = p.Service.Frontend;
            if (p.Programmed.Length < p.Service.Backends.Length)
            {
                var record = Lb4Refused.Create(LbRefusalReason.Subset, (uint)p.Service.Backends.Length, LimitOf(LbRefusalReason.Subset), p.Service.Name,
                    $"programmed {p.Programmed.Length} of {p.Service.Backends.Length} backends (rendezvous-hashed subset)");
                if (!refusals.TryGetValue(frontend, out var existing) || existing.Reason != (uint)LbRefusalReason.Subset)
                {
                    logger.LogWarning("Frontend {Frontend} of Service {Service} has {Count} backends, more than the {Limit} slots a frontend has: programming a stable subset of {Limit}",
                        frontend, p.Service.Name, p.Service.Backends.Length, LbLimits.MaxBackendSlots, LbLimits.MaxBackendSlots);
                }
                if (!refusals.TryGetValue(frontend, out existing) || !SameRecord(existing, record))
                    upserts[frontend] = record;
            }
            else if (refusals.ContainsKey(frontend))
            {
                clears.Add(frontend);
            }
        }
        foreach (var frontend in work.ClearedRefusals)
            clears.Add(frontend);
        foreach (var frontend in plan.Deletes)
        {
            if (refusals.ContainsKey(frontend) && !applied.ContainsKey(frontend))
                clears.Add(frontend);
        }
        foreach (var frontend in upserts.Keys)
            clears.Remove(frontend);
        if (upserts.Count == 0 && clears.Count == 0)
            return;

        try
        {
            if (upserts.Count > 0)
            {
                var keys = upserts.Keys.Select(ServiceEntryKey.Master).ToArray();
                var values = upserts.Values.ToArray();
                var ipv4 = keys.Select((k, i) => (k, i)).Where(e => !e.k.IsIPv6).ToArray();
                var ipv6Keys = keys.Select((k, i) => (k, i)).Where(e => e.k.IsIPv6).ToArray();
                if (ipv4.Length > 0)
                    maps.UpdateRefused(ipv4.Select(e => e.k.V4).ToArray(), ipv4.Select(e => values[e.i]).ToArray());
                if (ipv6Keys.Length > 0)
                    maps.UpdateRefused6(ipv6Keys.Select(e => e.k.V6).ToArray(), ipv6Keys.Select(e => values[e.i]).ToArray());
            }
            if (clears.Count > 0)
            {
                var keys = clears.Select(ServiceEntryKey.Master).ToArray();
                if (keys.Any(k => !k.IsIPv6))
                    maps.DeleteRefused(keys.Where(k => !k.IsIPv6).Select(k => k.V4).ToArray());
                if (keys.Any(k => k.IsIPv6))
                    maps.DeleteRefused6(keys.Where(k => k.IsIPv6).Select(k => k.V6).ToArray());
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Recording {Count} refused frontends in lb4_refused/lb6_refused failed; status may not show them", upserts.Count + clears.Count);
            return;
        }
        foreach (var (frontend, record) in upserts)
            refusals[frontend] = record;
        foreach (var frontend in clears)
        {
            if (refusals.Remove(frontend))
                logger.LogInformation("Frontend {Frontend} is written in full again", frontend);
        }
    }

    private bool HasSubset()
    {
        foreach (var p in work.Upserts)
        {
            if (p.Programmed.Length < p.Service.Backends.Length)
                return true;
        }
        return false;
    }

    private static LbRefusalReason ToAbi(RefusalReason reason) => reason switch
    {
        RefusalReason.ServiceMapFull => LbRefusalReason.ServiceMapFull,
        RefusalReason.BackendMapFull => LbRefusalReason.BackendMapFull,
        RefusalReason.NoServiceId => LbRefusalReason.NoServiceId,
        RefusalReason.Unsupported => LbRefusalReason.Unsupported,
        _ => LbRefusalReason.WriteFailed,
    };

    private uint LimitOf(LbRefusalReason reason) => reason switch
    {
        LbRefusalReason.Subset => LbLimits.MaxBackendSlots,
        LbRefusalReason.ServiceMapFull => maps.ServiceEntryCapacity,
        LbRefusalReason.BackendMapFull => maps.BackendCapacity,
        LbRefusalReason.NoServiceId => maps.ServiceIdLimit - 1,
        _ => 0,
    };

    /// <summary>A slot names its backend by id and carries a copy of its address, taken from the id's one backend.</summary>
    private void AddSlotValue(ServiceEntryBatch entries, in ServiceEntryKey key, uint serviceId, uint backendId)
    {
        if (!backends.TryGetBackend(backendId, out var backend))
            throw new InvalidOperationException($"backend id {backendId} is not in the backend table");
        entries.AddSlot(key, serviceId, backendId, backend);
    }

    private static bool SameRecord(in Lb4Refused a, in Lb4Refused b) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<Lb4Refused>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<Lb4Refused>(in b)));

    private static void AddSlotKeys(ServiceEntryBatch entries, in ServiceEntryKey master, int firstSlot, int lastSlot)
    {
        for (int slot = firstSlot; slot <= lastSlot; slot++)
            entries.AddKey(master.WithSlot((ushort)slot));
    }

    /// <summary>
    /// Rebuilds the writer's view from the kernel maps through <see cref="MapSnapshot"/>: what a restarted agent
    /// adopts. As the owner of the maps, it deletes what nothing can reach (slots without a master or beyond its count,
    /// backends no slot names: leftovers of an interrupted writer). A damaged frontend is reported under an empty name,
    /// which no desired service has, so the planner rewrites it, and the writer then rewrites it whole.
    /// </summary>
    private void Reload()
    {
        var snapshot = MapSnapshot.Read(maps);
        applied.Clear();
        backends.Clear();
        serviceIds.Clear();
        refusals.Clear();

        foreach (var (id, backend) in snapshot.Backends)
            backends.Adopt(id, backend);

        foreach (var f in snapshot.Frontends)
        {
            var ids = f.SlotBackendIds.Length == 0 ? [] : new uint[f.SlotBackendIds.Length];
            var list = ImmutableArray.CreateBuilder<Backend>(ids.Length);
            int entries = 1;
            for (int i = 0; i < ids.Length; i++)
            {
                uint id = f.SlotBackendIds[i];
                if (id != 0)
                    entries++;
                if (!snapshot.TryGetBackend(id, out var backend))
                    continue; // a hole: id 0 never matches a real backend, so the rewrite writes this slot
                ids[i] = id;
                backends.AddReference(id);
                list.Add(backend);
            }
            uint serviceId = f.ServiceIdValid ? f.Master.ServiceId : 0;
            if (serviceId != 0)
                serviceIds.MarkUsed(serviceId);
            if (f.IsDamaged)
                logger.LogWarning("Frontend {Frontend} in the service maps is damaged ({Problems}); it will be rewritten", f.Frontend, string.Join("; ", f.Problems));
            var service = new LoadBalancerService(f.Frontend, f.IsDamaged ? "" : f.Name, f.Master.ServiceFlags,
                list.ToImmutable(), f.Master.AffinityTimeout);
            applied[f.Frontend] = new AppliedFrontend(serviceId, ids, service, entries, f.IsDamaged);
        }

        foreach (var (key, record) in snapshot.Refused)
            refusals[key.Frontend] = record;

        serviceEntries = snapshot.ServiceEntries;
        serviceEntries6 = snapshot.ServiceEntries6;
        if (snapshot.UnreachableEntries.Count > 0)
        {
            logger.LogInformation("Deleting {Count} service map entries no master reaches", snapshot.UnreachableEntries.Count);
            try
            {
                var entries = new ServiceEntryBatch();
                foreach (var key in snapshot.UnreachableEntries)
                    entries.AddKey(key);
                entries.Delete(maps);
                serviceEntries -= entries.Keys4.Count;
                serviceEntries6 -= entries.Keys6.Count;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Deleting unreachable service map entries failed; the next full sync tries again");
            }
        }
        DeleteUnreferencedBackends();
    }

    /// <summary>One admitted upsert: what it will write and what it held before.</summary>
    private sealed class PendingUpsert(
        LoadBalancerService service,
        ImmutableArray<Backend> programmed,
        AppliedFrontend? old,
        uint serviceId,
        bool newId,
        uint[] ids,
        ServiceEntryKey key)
    {
        public LoadBalancerService Service { get; } = service;
        public ImmutableArray<Backend> Programmed { get; } = programmed;
        public AppliedFrontend? Old { get; } = old;
        public uint ServiceId { get; } = serviceId;
        public bool NewId { get; } = newId;
        public uint[] Ids { get; } = ids;
        public ServiceEntryKey Key { get; } = key;
        public bool Failed { get; set; }

        /// <summary>Nothing of the old entries can be kept: a new frontend, a damaged one, or one with a new id.</summary>
        private bool RewriteAll => Old is null || Old.Damaged || Old.ServiceId != ServiceId;

        public bool NeedsName => RewriteAll || Old!.Service.Name != Service.Name;

        public bool NeedsMaster =>
            RewriteAll || Old!.SlotBackendIds.Length != Ids.Length || Old.Service.Flags != Service.Flags
            || Old.Service.AffinityTimeoutSeconds != Service.AffinityTimeoutSeconds;

        public void AddMaster(ServiceEntryBatch entries) =>
            entries.AddMaster(Key, ServiceId, (ushort)Ids.Length, Service.Flags, Service.AffinityTimeoutSeconds);

        public void AddChangedSlots(ServiceEntryBatch entries)
        {
            var oldIds = RewriteAll ? [] : Old!.SlotBackendIds;
            for (int i = 0; i < Ids.Length; i++)
            {
                if (i < oldIds.Length && oldIds[i] == Ids[i])
                    continue;
                entries.AddSlot(Key.WithSlot((ushort)(i + 1)), ServiceId, Ids[i], Programmed[i]);
            }
        }

        public void AddShrunkSlots(ServiceEntryBatch entries)
        {
            int oldCount = Old?.SlotBackendIds.Length ?? 0;
            for (int slot = Ids.Length + 1; slot <= oldCount; slot++)
                entries.AddKey(Key.WithSlot((ushort)slot));
        }
    }

    /// <summary>Buffers one plan's batches are built in, kept between plans so a steady state allocates nothing.</summary>
    private sealed class PlanWork
    {
        public List<PendingUpsert> Upserts { get; } = [];
        public List<uint> NewBackendIds { get; } = [];
        public List<Lb4Backend> NewBackendValues { get; } = [];
        public List<uint> NewBackendIds6 { get; } = [];
        public List<Lb6Backend> NewBackendValues6 { get; } = [];
        public List<uint> Ids { get; } = [];
        public List<uint> NewServiceIds { get; } = [];
        public List<string> Names { get; } = [];

        /// <summary>The buffer a step is built in; a parallel step hands its full chunks over and leaves another here.</summary>
        public ServiceEntryBatch Entries { get; set; } = new();
        public HashSet<Frontend> ClearedRefusals { get; } = [];
        public long EntryGrowth { get; set; }
        public long EntryGrowth6 { get; set; }

        public void ClearEntries() => Entries.Clear();

        /// <summary>
        /// After a plan of thousands of entries (the first sync, a mass change): empties the buffers and gives their
        /// memory back, since they would otherwise hold that plan's pending upserts and room for its entries for the
        /// agent's lifetime (about 25 MB at 50k frontends x 10). Steady-state plans are small and keep their buffers.
        /// </summary>
        public bool ReleaseIfLarge()
        {
            if (Entries.Capacity + Upserts.Capacity + NewBackendIds.Capacity + NewBackendIds6.Capacity < LargePlanEntries)
                return false;
            Clear();
            Upserts.TrimExcess();
            NewBackendIds.TrimExcess();
            NewBackendValues.TrimExcess();
            NewBackendIds6.TrimExcess();
            NewBackendValues6.TrimExcess();
            Ids.TrimExcess();
            NewServiceIds.TrimExcess();
            Names.TrimExcess();
            Entries.ClearAndTrim();
            ClearedRefusals.TrimExcess();
            return true;
        }

        private const int LargePlanEntries = 16384;

        public void Clear()
        {
            Upserts.Clear();
            NewBackendIds.Clear();
            NewBackendValues.Clear();
            NewBackendIds6.Clear();
            NewBackendValues6.Clear();
            Ids.Clear();
            NewServiceIds.Clear();
            Names.Clear();
            ClearEntries();
            ClearedRefusals.Clear();
            EntryGrowth = 0;
            EntryGrowth6 = 0;
        }
    }
}
