using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Status;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// <see cref="ILoadBalancerMaps"/> over the pinned kernel maps. Owns its map handles. Multi-entry changes go through the
/// batch syscalls (one syscall instead of one per entry); a kernel that rejects batch operations on a map type gets
/// the element-by-element path, decided once. The writes may come from several threads at once (a parallel step of
/// <see cref="BpfMapWriter"/>): each call uses only its map's descriptor and its own buffers, the filters' bits are
/// changed under <c>filterGate</c>, and the batch-support latch only ever goes one way.
/// </summary>
internal sealed class KernelLoadBalancerMaps : ILoadBalancerMaps, INodeAddressMaps, IDisposable
{
    private readonly BpfMapHandle services;
    private readonly BpfMapHandle backends;
    private readonly BpfMapHandle stats;
    private readonly BpfMapHandle names;
    private readonly BpfMapHandle frontendFilter;
    private readonly BpfMapHandle? frontendFilter6;
    private readonly FrontendAddressFilter filter = new();
    private readonly FrontendAddressFilter6 filter6 = new();
    private bool filterArmed; // both filters: they are armed together
    // The plan writer and the node-address writer run on different threads and share the filters' bits.
    private readonly Lock filterGate = new();
    private readonly BpfMapHandle nodeAddresses;
    private readonly BpfMapHandle nodeAddresses6;
    private readonly BpfMapHandle refused;
    private readonly BpfMapHandle reverseSockets;
    private readonly BpfMapHandle services6;
    private readonly BpfMapHandle backends6;
    private readonly BpfMapHandle reverseSockets6;
    private readonly BpfMapHandle refused6;
    private readonly BpfMapHandle? affinity;
    private readonly ServiceGenerations generations;
    // The backend arrays as memory (null where the kernel refuses the mapping: the syscalls then do the same work).
    private readonly MappedBackendArray<Lb4Backend>? mappedBackends;
    private readonly MappedBackendArray<Lb6Backend>? mappedBackends6;
    private readonly int possibleCpus = BpfMapHandle.PossibleCpus;
    private volatile bool batchUnsupported;
    private bool batchLookupUnsupported;

    /// <summary>Entries per batch lookup: large enough to amortise the syscall, small enough for any hash bucket.</summary>
    private const int BatchChunk = 512;

    /// <summary>
    /// Entries per batch lookup of a backend array, which has no buckets to fit and is read whole (every index, used
    /// or not) by each status read and scrape: 32 calls for the default 131072 of both families.
    /// </summary>
    private const int ArrayBatchChunk = 8192;

    public KernelLoadBalancerMaps(PinnedMaps pinned)
    {
        services = pinned.Services;
        backends = pinned.Backends;
        stats = pinned.Stats;
        names = pinned.Names;
        frontendFilter = pinned.FrontendFilter;
        frontendFilter6 = pinned.FrontendFilter6;
        refused = pinned.Refused;
        reverseSockets = pinned.ReverseSockets;
        services6 = pinned.Services6;
        backends6 = pinned.Backends6;
        reverseSockets6 = pinned.ReverseSockets6;
        refused6 = pinned.Refused6;
        affinity = pinned.Affinity;
        generations = new ServiceGenerations(pinned.ServiceGenerations);
        nodeAddresses = pinned.NodeAddresses;
        nodeAddresses6 = pinned.NodeAddresses6;
        ServiceEntryCapacity = services.Info.MaxEntries;
        ServiceEntryCapacity6 = services6.Info.MaxEntries;
        // Index 0 of the backend arrays is never used (id 0 is "none"); both arrays have the same size (ObjectLoader).
        BackendCapacity = Math.Min(backends.Info.MaxEntries, backends6.Info.MaxEntries) - 1;
        ServiceIdLimit = stats.Info.MaxEntries;
        mappedBackends = MappedBackendArray<Lb4Backend>.TryMap(backends);
        mappedBackends6 = MappedBackendArray<Lb6Backend>.TryMap(backends6);
    }

    public uint ServiceEntryCapacity { get; }
    public uint BackendCapacity { get; }
    public uint ServiceIdLimit { get; }
    public uint ServiceEntryCapacity6 { get; }

    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb6ServiceValue>> ReadServiceEntries6() => ReadAll<Lb6ServiceKey, Lb6ServiceValue>(services6);

    public IReadOnlyList<KeyValuePair<uint, Lb6Backend>> ReadBackends6() =>
        mappedBackends6?.ReadInUse() ?? ReadBackendArray<Lb6Backend>(backends6);

    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb4Refused>> ReadRefused6() => ReadAll<Lb6ServiceKey, Lb4Refused>(refused6);

    public MapUsage? AffinityUsage() =>
        affinity is null ? null : new(MapNames.Affinity, CountEntries<LbAffinityKey, LbAffinityValue>(affinity), affinity.Info.MaxEntries);

    public MapUsage ReverseSocketUsage6() =>
        new(MapNames.ReverseSockets6, CountEntries<Lb6ReverseSkKey, Lb6ReverseSkValue>(reverseSockets6), reverseSockets6.Info.MaxEntries);

    public void UpdateBackends6(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb6Backend> values)
    {
        if (mappedBackends6 is not null)
            mappedBackends6.Write(ids, values);
        else
            UpdateMany(backends6, ids, values);
    }

    /// <summary>
    /// As <see cref="UpdateServiceEntries"/>: with lb6_fe_filter (a new master's bit before the master), and the
    /// service ids moved on in lb_svc_gen afterwards, which sendmsg6's reuse reads as sendmsg4's does.
    /// </summary>
    public void UpdateServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb6ServiceValue> values)
    {
        lock (filterGate)
        {
            ArmFrontendFilters();
            WriteFilterWords(frontendFilter6, filter6.AddMasters(keys));
        }
        try
        {
            UpdateMany(services6, keys, values);
        }
        finally
        {
            generations.Bump(ServiceIdsOf(values, static v => v.ServiceId));
        }
    }

    public void DeleteServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys)
    {
        lock (filterGate)
            ArmFrontendFilters();
        uint[] removedMasters = ServiceIdsOfMasters<Lb6ServiceKey, Lb6ServiceValue>(services6, keys, static k => k.BackendSlot == 0, static v => v.ServiceId);
        try
        {
            DeleteMany(services6, keys);
        }
        finally
        {
            generations.Bump(removedMasters);
        }
        lock (filterGate)
            WriteFilterWords(frontendFilter6, filter6.RemoveMasters(keys));
    }

    public void DeleteBackends6(ReadOnlySpan<uint> ids)
    {
        if (mappedBackends6 is not null)
            mappedBackends6.Clear(ids);
        else
            ClearBackends<Lb6Backend>(backends6, ids);
    }

    public void UpdateRefused6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb4Refused> values) => UpdateMany(refused6, keys, values);

    public void DeleteRefused6(ReadOnlySpan<Lb6ServiceKey> keys) => DeleteMany(refused6, keys);

    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, LbServiceValue>> ReadServiceEntries() => ReadAll<Lb4ServiceKey, LbServiceValue>(services);

    public IReadOnlyList<KeyValuePair<uint, Lb4Backend>> ReadBackends() =>
        mappedBackends?.ReadInUse() ?? ReadBackendArray<Lb4Backend>(backends);

    public IReadOnlyDictionary<uint, string> ReadNames()
    {
        var all = ReadAll<uint, LbServiceName>(names);
        var result = new Dictionary<uint, string>(all.Count);
        foreach (var (id, name) in all)
            result[id] = name.ToString();
        return result;
    }

    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, Lb4Refused>> ReadRefused() => ReadAll<Lb4ServiceKey, Lb4Refused>(refused);

    public ServiceCounters ReadCounters(uint serviceId)
    {
        Span<LbServiceStats> perCpu = possibleCpus <= 256 ? stackalloc LbServiceStats[possibleCpus] : new LbServiceStats[possibleCpus];
        // An id outside the array (a corrupt master) reads as no counters rather than an error.
        if (serviceId >= stats.Info.MaxEntries || !stats.TryLookupPerCpu(in serviceId, perCpu))
            return new ServiceCounters(0, 0, 0);
        ulong translated = 0, refusedNoBackend = 0, reverse = 0;
        foreach (var s in perCpu)
        {
            translated += s.Translated;
            refusedNoBackend += s.RefusedNoBackend;
            reverse += s.ReverseTranslated;
        }
        return new ServiceCounters(translated, refusedNoBackend, reverse);
    }

    public MapUsage ReverseSocketUsage() =>
        new(MapNames.ReverseSockets, CountEntries<Lb4ReverseSkKey, Lb4ReverseSkValue>(reverseSockets), reverseSockets.Info.MaxEntries);

    public void UpdateBackends(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb4Backend> values)
    {
        if (mappedBackends is not null)
            mappedBackends.Write(ids, values);
        else
            UpdateMany(backends, ids, values);
    }

    public void UpdateServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<LbServiceValue> values)
    {
        // A new master's filter bit is set before the master exists: the programs must never skip a frontend.
        lock (filterGate)
        {
            ArmFrontendFilters();
            WriteFilterWords(frontendFilter, filter.AddMasters(keys));
        }
        try
        {
            UpdateMany(services, keys, values);
        }
        finally
        {
            // After the change, also a partial one: slots and masters alike, as either changes a socket's choice.
            generations.Bump(ServiceIdsOf(values, static v => v.ServiceId));
        }
    }

    /// <summary>The service ids of <paramref name="values"/>, a run of one frontend's entries counted once.</summary>
    private static uint[] ServiceIdsOf<TValue>(ReadOnlySpan<TValue> values, Func<TValue, uint> serviceId)
    {
        var ids = new List<uint>();
        uint previous = 0;
        foreach (ref readonly var value in values)
        {
            uint id = serviceId(value);
            if (id != previous)
                ids.Add(previous = id);
        }
        return [.. ids];
    }

    public void DeleteServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        lock (filterGate)
            ArmFrontendFilters();
        // A removed frontend's service id moves on after the delete; its id is only in the master's value.
        uint[] removedMasters = ServiceIdsOfMasters<Lb4ServiceKey, LbServiceValue>(services, keys, static k => k.BackendSlot == 0, static v => v.ServiceId);
        try
        {
            DeleteMany(services, keys);
        }
        finally
        {
            generations.Bump(removedMasters);
        }
        // Only after the masters are gone; a failed delete above leaves the bits set, which is always safe.
        lock (filterGate)
            WriteFilterWords(frontendFilter, filter.RemoveMasters(keys));
    }

    /// <summary>The service ids of the masters among <paramref name="keys"/>, read before they are deleted.</summary>
    private static uint[] ServiceIdsOfMasters<TKey, TValue>(BpfMapHandle map, ReadOnlySpan<TKey> keys, Func<TKey, bool> isMaster,
        Func<TValue, uint> serviceId)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        var ids = new List<uint>();
        foreach (ref readonly var key in keys)
        {
            if (isMaster(key) && map.TryLookup(key, out TValue value))
                ids.Add(serviceId(value));
        }
        return [.. ids];
    }

    /// <summary>
    /// For the owning agent taking over the maps (<see cref="ServiceGenerations.BumpAllInUse"/>): no socket reuses a
    /// translation from before this process. Returns how many service ids moved on.
    /// </summary>
    public int InvalidateReusedTranslations() => generations.BumpAllInUse();

    public IReadOnlyDictionary<IPAddress, LbNodeAddrFlags> ReadNodeAddresses()
    {
        var result = new Dictionary<IPAddress, LbNodeAddrFlags>();
        foreach (var (address, value) in ReadAll<uint, LbNodeAddress>(nodeAddresses))
            result[NetworkOrder.FromBe32(address)] = (LbNodeAddrFlags)value.Flags;
        foreach (var (address, value) in ReadAll<Lb6Address, LbNodeAddress>(nodeAddresses6))
            result[address.Address] = (LbNodeAddrFlags)value.Flags;
        return result;
    }

    public IReadOnlyList<MapUsage> NodeAddressUsage() =>
    [
        new(MapNames.NodeAddresses, CountEntries<uint, LbNodeAddress>(nodeAddresses), nodeAddresses.Info.MaxEntries),
        new(MapNames.NodeAddresses6, CountEntries<Lb6Address, LbNodeAddress>(nodeAddresses6), nodeAddresses6.Info.MaxEntries),
    ];

    public void UpdateNodeAddresses(IReadOnlyList<KeyValuePair<IPAddress, LbNodeAddrFlags>> addresses)
    {
        var keys4 = new List<uint>();
        var values4 = new List<LbNodeAddress>();
        var keys6 = new List<Lb6Address>();
        var values6 = new List<LbNodeAddress>();
        foreach (var (address, flags) in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                keys4.Add(NetworkOrder.ToBe32(address));
                values4.Add(new LbNodeAddress { Flags = (uint)flags });
            }
            else
            {
                keys6.Add(Lb6Address.Create(address));
                values6.Add(new LbNodeAddress { Flags = (uint)flags });
            }
        }
        // The bits first: an address without its bit would be skipped by the filter. Arming here too, not only on the
        // first Service write: a restarted agent adopts filters a previous one armed, and a node address written
        // before this process had rebuilt them would have no bit there.
        lock (filterGate)
        {
            ArmFrontendFilters();
            WriteFilterWords(frontendFilter, filter.AddNodeAddresses(keys4));
            WriteFilterWords(frontendFilter6, filter6.AddNodeAddresses(keys6));
        }
        if (keys4.Count > 0)
            UpdateMany<uint, LbNodeAddress>(nodeAddresses, CollectionsMarshal.AsSpan(keys4), CollectionsMarshal.AsSpan(values4));
        if (keys6.Count > 0)
            UpdateMany<Lb6Address, LbNodeAddress>(nodeAddresses6, CollectionsMarshal.AsSpan(keys6), CollectionsMarshal.AsSpan(values6));
    }

    public void DeleteNodeAddresses(IReadOnlyList<IPAddress> addresses)
    {
        var keys4 = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(NetworkOrder.ToBe32).ToArray();
        var keys6 = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).Select(Lb6Address.Create).ToArray();
        if (keys4.Length > 0)
            DeleteMany<uint>(nodeAddresses, keys4);
        if (keys6.Length > 0)
            DeleteMany<Lb6Address>(nodeAddresses6, keys6);
        // Only after the addresses are gone, and only bits no frontend shares (the filters count both). Unarmed, the
        // words are not written: the kernel's bits stay set (safe) until the rebuild that arms the filters.
        lock (filterGate)
        {
            var changed = filter.RemoveNodeAddresses(keys4);
            var changed6 = filter6.RemoveNodeAddresses(keys6);
            if (filterArmed)
            {
                WriteFilterWords(frontendFilter, changed);
                WriteFilterWords(frontendFilter6, changed6);
            }
        }
    }

    /// <summary>
    /// Fills lb4_fe_filter and lb6_fe_filter from the masters in lb4_services_v2/lb6_services and the addresses in
    /// lb4_node_addrs/lb6_node_addrs, then arms each, on the first write of this process: a read-only user (cgroup-lb
    /// status) never writes the filters, and maps adopted from an agent that did not keep them are translated
    /// unfiltered until then. The plan writer is the only writer of the services maps and arms before its first
    /// write, and the node-address writer holds <see cref="filterGate"/> as this does, so nothing changes meanwhile.
    /// </summary>
    private void ArmFrontendFilters()
    {
        if (filterArmed)
            return;
        // Node addresses a previous agent wrote keep their bits until the node-address sync decides about them.
        ArmFilter(frontendFilter, filter, ReadAll<uint, LbNodeAddress>(nodeAddresses).Select(e => e.Key), ReadServiceEntries().Select(e => e.Key));
        if (frontendFilter6 is not null)
            ArmFilter(frontendFilter6, filter6, ReadAll<Lb6Address, LbNodeAddress>(nodeAddresses6).Select(e => e.Key), ReadServiceEntries6().Select(e => e.Key));
        filterArmed = true;
    }

    /// <summary>Every word of the bitmap, then the armed word: the programs trust the bitmap only once it is whole.</summary>
    private void ArmFilter<TMaster, TAddress>(BpfMapHandle map, FrontendFilterBitmap<TMaster, TAddress> bitmap,
        IEnumerable<TAddress> pinnedNodeAddresses, IEnumerable<TMaster> pinnedMasters)
        where TMaster : struct, IEquatable<TMaster> where TAddress : struct, IEquatable<TAddress>
    {
        bitmap.AddNodeAddresses(pinnedNodeAddresses);
        var words = bitmap.Rebuild(pinnedMasters);
        var indexes = new uint[words.Length];
        for (uint i = 0; i < indexes.Length; i++)
            indexes[i] = i;
        UpdateMany<uint, ulong>(map, indexes, words);
        uint armed = FrontendAddressFilter.ArmedIndex;
        map.Update(in armed, 1UL, BpfUpdateFlags.Any);
    }

    /// <summary>
    /// The changed words in one batch: a first sync of 10k frontends changes about as many words, which one update
    /// each would cost as many syscalls as the rest of the sync. No map (lb6_fe_filter pinned by an older agent is
    /// missing): nothing to write, since that agent's programs do not read one.
    /// </summary>
    private void WriteFilterWords(BpfMapHandle? map, List<KeyValuePair<uint, ulong>> words)
    {
        if (words.Count == 0 || map is null)
            return;
        var indexes = new uint[words.Count];
        var values = new ulong[words.Count];
        for (int i = 0; i < words.Count; i++)
            (indexes[i], values[i]) = words[i];
        UpdateMany<uint, ulong>(map, indexes, values);
    }

    public void DeleteBackends(ReadOnlySpan<uint> ids)
    {
        if (mappedBackends is not null)
            mappedBackends.Clear(ids);
        else
            ClearBackends<Lb4Backend>(backends, ids);
    }

    /// <summary>An array entry cannot be deleted: a freed id is written all zero, which readers skip (syscall path).</summary>
    private void ClearBackends<TValue>(BpfMapHandle map, ReadOnlySpan<uint> ids) where TValue : unmanaged
    {
        if (ids.IsEmpty)
            return;
        bool pooled = ids.Length <= PooledBufferMaxItems;
        var zeros = pooled ? ArrayPool<TValue>.Shared.Rent(ids.Length) : new TValue[ids.Length];
        try
        {
            var values = zeros.AsSpan(0, ids.Length);
            values.Clear();
            UpdateMany<uint, TValue>(map, ids, values);
        }
        finally
        {
            if (pooled)
                ArrayPool<TValue>.Shared.Return(zeros);
        }
    }

    /// <summary>
    /// The ids in use of a backend array the kernel would not map: every index is read (in batches), the all-zero
    /// values of free ids are left out, and so is index 0, which no writer uses.
    /// </summary>
    private List<KeyValuePair<uint, TValue>> ReadBackendArray<TValue>(BpfMapHandle map) where TValue : unmanaged
    {
        var result = new List<KeyValuePair<uint, TValue>>();
        var keys = new uint[ArrayBatchChunk];
        var values = new TValue[ArrayBatchChunk];
        void Keep(ReadOnlySpan<uint> ids, ReadOnlySpan<TValue> read)
        {
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] != 0 && MemoryMarshal.AsBytes(read.Slice(i, 1)).ContainsAnyExcept((byte)0))
                    result.Add(new(ids[i], read[i]));
            }
        }

        if (!batchLookupUnsupported)
        {
            try
            {
                byte[]? cursor = null;
                do
                {
                    int n = map.LookupBatch(ref cursor, MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan()), ArrayBatchChunk);
                    Keep(keys.AsSpan(0, n), values.AsSpan(0, n));
                }
                while (cursor is not null);
                return result;
            }
            catch (BpfException ex) when (ex.IsNotSupported || ex.Errno == Errno.EINVAL)
            {
                batchLookupUnsupported = true;
                result.Clear();
            }
        }
        // Array indexes never vanish: a lookup per index, no walk.
        for (uint id = 1; id < map.Info.MaxEntries; id++)
        {
            if (map.TryLookup(in id, out TValue value))
                Keep([id], [value]);
        }
        return result;
    }

    /// <summary>Per-service buffers up to this many items are rented from the shared pool; larger ones are allocated.</summary>
    private const int PooledBufferMaxItems = 1024;

    public void WriteNames(ReadOnlySpan<uint> serviceIds, ReadOnlySpan<string> serviceNames)
    {
        // A first sync names every service at once (64 B each): a buffer that size is not returned to the shared pool,
        // which would keep it for the agent's lifetime.
        bool pooled = serviceIds.Length <= PooledBufferMaxItems;
        var values = pooled ? ArrayPool<LbServiceName>.Shared.Rent(serviceIds.Length) : new LbServiceName[serviceIds.Length];
        try
        {
            for (int i = 0; i < serviceIds.Length; i++)
                values[i] = LbServiceName.Create(serviceNames[i]);
            UpdateMany(names, serviceIds, values.AsSpan(0, serviceIds.Length));
        }
        finally
        {
            if (pooled)
                ArrayPool<LbServiceName>.Shared.Return(values);
        }
    }

    public void DeleteNames(ReadOnlySpan<uint> serviceIds) => DeleteMany(names, serviceIds);

    public void ResetStats(ReadOnlySpan<uint> serviceIds)
    {
        if (serviceIds.IsEmpty)
            return;
        // A per-CPU value is one 8-byte-aligned slot per possible CPU; zero them all.
        int stride = ((Marshal.SizeOf<LbServiceStats>() + 7) & ~7) * possibleCpus;
        bool pooled = serviceIds.Length <= PooledBufferMaxItems;
        var zeros = pooled ? ArrayPool<byte>.Shared.Rent(stride * serviceIds.Length) : new byte[stride * serviceIds.Length];
        try
        {
            var buffer = zeros.AsSpan(0, stride * serviceIds.Length);
            buffer.Clear();
            if (serviceIds.Length > 1 && !batchUnsupported)
            {
                try
                {
                    stats.UpdateBatch(MemoryMarshal.AsBytes(serviceIds), buffer, serviceIds.Length, BpfUpdateFlags.Any);
                    return;
                }
                catch (BpfException ex) when (ex.Errno is Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP)
                {
                    batchUnsupported = true;
                }
            }
            for (int i = 0; i < serviceIds.Length; i++)
                stats.Update(MemoryMarshal.AsBytes(serviceIds.Slice(i, 1)), buffer[..stride], BpfUpdateFlags.Any);
        }
        finally
        {
            if (pooled)
                ArrayPool<byte>.Shared.Return(zeros);
        }
    }

    public void UpdateRefused(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<Lb4Refused> values) => UpdateMany(refused, keys, values);

    public void DeleteRefused(ReadOnlySpan<Lb4ServiceKey> keys) => DeleteMany(refused, keys);

    private void UpdateMany<TKey, TValue>(BpfMapHandle map, ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
        where TKey : unmanaged where TValue : unmanaged
    {
        if (keys.Length > 1 && !batchUnsupported)
        {
            try
            {
                map.UpdateBatch(MemoryMarshal.AsBytes(keys), MemoryMarshal.AsBytes(values), keys.Length, BpfUpdateFlags.Any);
                return;
            }
            catch (BpfException ex) when (ex.Errno is Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP)
            {
                batchUnsupported = true;
            }
        }
        for (int i = 0; i < keys.Length; i++)
            map.Update(in keys[i], in values[i], BpfUpdateFlags.Any);
    }

    /// <summary>
    /// Deletes keys, absent ones included: removal and rollback paths delete ranges that may be partly empty. The
    /// batch call stops at the first absent key, so that case finishes element by element (deleting twice is harmless).
    /// </summary>
    private void DeleteMany<TKey>(BpfMapHandle map, ReadOnlySpan<TKey> keys) where TKey : unmanaged
    {
        if (keys.Length > 1 && !batchUnsupported)
        {
            try
            {
                map.DeleteBatch(MemoryMarshal.AsBytes(keys), keys.Length);
                return;
            }
            catch (BpfException ex) when (ex.IsNotFound)
            {
            }
            catch (BpfException ex) when (ex.Errno is Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP)
            {
                batchUnsupported = true;
            }
        }
        foreach (var key in keys)
            map.Delete(in key);
    }

    /// <summary>
    /// Reads a whole map. The batch call reads hundreds of entries per syscall (a full sync reads every frontend and
    /// backend); kernels or map states that refuse it get the key-by-key walk.
    /// </summary>
    private List<KeyValuePair<TKey, TValue>> ReadAll<TKey, TValue>(BpfMapHandle map)
        where TKey : unmanaged where TValue : unmanaged
    {
        if (!batchLookupUnsupported)
        {
            try
            {
                return ReadAllBatched<TKey, TValue>(map);
            }
            catch (BpfException ex) when (ex.IsNotSupported || ex.Errno == Errno.EINVAL)
            {
                batchLookupUnsupported = true;
            }
            catch (BpfException)
            {
                // ENOSPC (a hash bucket larger than the chunk) or a concurrent change: walk this map key by key.
            }
        }
        var result = new List<KeyValuePair<TKey, TValue>>();
        // A hash walk restarts when its current key is deleted under it; bound it so a map under churn cannot keep
        // a reader (status, a scrape) walking forever. Duplicates from a restart are dropped.
        long budget = 2L * map.Info.MaxEntries + 1;
        var seen = new HashSet<TKey>();
        foreach (var key in map.Keys<TKey>())
        {
            if (--budget < 0)
                break;
            // A key can vanish between iteration and lookup when the programs or another writer delete it.
            if (seen.Add(key) && map.TryLookup(in key, out TValue value))
                result.Add(new(key, value));
        }
        return result;
    }

    /// <summary>
    /// Counts a map's entries for the fill-ratio metric, reading in batches: the reverse map can hold hundreds of
    /// thousands of sockets, and a key-by-key walk there would cost a syscall each on every scrape.
    /// </summary>
    public static long CountEntries<TKey, TValue>(BpfMapHandle map) where TKey : unmanaged where TValue : unmanaged
    {
        try
        {
            var keys = new TKey[BatchChunk];
            var values = new TValue[BatchChunk];
            long count = 0;
            byte[]? cursor = null;
            do
                count += map.LookupBatch(ref cursor, MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan()), BatchChunk);
            while (cursor is not null);
            return count;
        }
        catch (BpfException)
        {
            return map.Keys<TKey>().Take((int)Math.Min(int.MaxValue, 2L * map.Info.MaxEntries)).LongCount();
        }
    }

    private static List<KeyValuePair<TKey, TValue>> ReadAllBatched<TKey, TValue>(BpfMapHandle map)
        where TKey : unmanaged where TValue : unmanaged
    {
        var keys = new TKey[BatchChunk];
        var values = new TValue[BatchChunk];
        var result = new List<KeyValuePair<TKey, TValue>>();
        byte[]? cursor = null;
        do
        {
            int n = map.LookupBatch(ref cursor, MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan()), BatchChunk);
            for (int i = 0; i < n; i++)
                result.Add(new(keys[i], values[i]));
        }
        while (cursor is not null);
        return result;
    }

    public void Dispose()
    {
        services.Dispose();
        backends.Dispose();
        stats.Dispose();
        names.Dispose();
        frontendFilter.Dispose();
        frontendFilter6?.Dispose();
        refused.Dispose();
        reverseSockets.Dispose();
        services6.Dispose();
        backends6.Dispose();
        reverseSockets6.Dispose();
        refused6.Dispose();
        affinity?.Dispose();
        nodeAddresses.Dispose();
        nodeAddresses6.Dispose();
        mappedBackends?.Dispose();
        mappedBackends6?.Dispose();
        generations.Dispose();
    }
}
