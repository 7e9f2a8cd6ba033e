using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// <see cref="ILoadBalancerMaps"/> over the pinned kernel maps. Owns its map handles. Multi-entry changes go through the
/// batch syscalls (one syscall instead of one per entry); a kernel that rejects batch operations on a map type gets
/// the element-by-element path, decided once.
/// </summary>
internal sealed class KernelLoadBalancerMaps : ILoadBalancerMaps, IDisposable
{
    private readonly BpfMapHandle services;
    private readonly BpfMapHandle backends;
    private readonly BpfMapHandle stats;
    private readonly BpfMapHandle names;
    private readonly BpfMapHandle frontendFilter;
    private readonly FrontendAddressFilter filter = new();
    private bool filterArmed;
    private readonly int possibleCpus = BpfMapHandle.PossibleCpus;
    private bool batchUnsupported;
    private bool batchLookupUnsupported;

    /// <summary>Entries per batch lookup: large enough to amortise the syscall, small enough for any hash bucket.</summary>
    private const int BatchChunk = 512;

    public KernelLoadBalancerMaps(PinnedMaps pinned)
    {
        services = pinned.Services;
        backends = pinned.Backends;
        stats = pinned.Stats;
        names = pinned.Names;
        frontendFilter = pinned.FrontendFilter;
        ServiceEntryCapacity = services.Info.MaxEntries;
        BackendCapacity = backends.Info.MaxEntries;
        ServiceIdLimit = stats.Info.MaxEntries;
    }

    public uint ServiceEntryCapacity { get; }
    public uint BackendCapacity { get; }
    public uint ServiceIdLimit { get; }

    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, LbServiceValue>> ReadServiceEntries() => ReadAll<Lb4ServiceKey, LbServiceValue>(services);

    public IReadOnlyList<KeyValuePair<uint, Lb4Backend>> ReadBackends() => ReadAll<uint, Lb4Backend>(backends);

    public string? ReadName(uint serviceId) =>
        names.TryLookup(in serviceId, out LbServiceName name) ? name.ToString() : null;

    public void UpdateBackends(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb4Backend> values) =>
        UpdateMany(backends, ids, values);

    public void UpdateServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<LbServiceValue> values)
    {
        // A new master's filter bit is set before the master exists: the programs must never skip a frontend.
        ArmFrontendFilter();
        WriteFilterWords(filter.AddMasters(keys.ToArray()));
        UpdateMany(services, keys, values);
    }

    public void DeleteServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        ArmFrontendFilter();
        DeleteMany(services, keys);
        // Only after the masters are gone; a failed delete above leaves the bits set, which is always safe.
        WriteFilterWords(filter.RemoveMasters(keys.ToArray()));
    }

    /// <summary>
    /// Fills lb4_fe_filter from the masters in lb4_services_v2, then arms it, on the first write of this process: a
    /// read-only user (cgroup-lb status) never writes the filter, and maps adopted from an agent that did not keep
    /// it are translated unfiltered until then. The maps have one writer, so the masters cannot change meanwhile.
    /// </summary>
    private void ArmFrontendFilter()
    {
        if (filterArmed)
            return;
        var bitmap = filter.Rebuild(ReadServiceEntries().Select(e => e.Key));
        var indexes = new uint[bitmap.Length];
        for (uint i = 0; i < indexes.Length; i++)
            indexes[i] = i;
        UpdateMany<uint, ulong>(frontendFilter, indexes, bitmap);
        uint armed = FrontendAddressFilter.ArmedIndex;
        frontendFilter.Update(in armed, 1UL, BpfUpdateFlags.Any);
        filterArmed = true;
    }

    private void WriteFilterWords(List<KeyValuePair<uint, ulong>> words)
    {
        foreach (var (index, value) in words)
            frontendFilter.Update(in index, in value, BpfUpdateFlags.Any);
    }

    public void DeleteBackends(ReadOnlySpan<uint> ids) => DeleteMany(backends, ids);

    public void WriteName(uint serviceId, string name) =>
        names.Update(in serviceId, LbServiceName.Create(name), BpfUpdateFlags.Any);

    public void DeleteName(uint serviceId) => names.Delete(in serviceId);

    public void ResetStats(uint serviceId)
    {
        // A per-CPU value is one 8-byte-aligned slot per possible CPU; zero them all.
        int slot = (Marshal.SizeOf<LbServiceStats>() + 7) & ~7;
        Span<byte> zeros = stackalloc byte[slot * possibleCpus];
        zeros.Clear();
        stats.Update(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in serviceId)), zeros, BpfUpdateFlags.Any);
    }

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
        foreach (var key in map.Keys<TKey>())
        {
            // A key can vanish between iteration and lookup when the programs or another writer delete it.
            if (map.TryLookup(in key, out TValue value))
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
            return map.Keys<TKey>().LongCount();
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
    }
}
