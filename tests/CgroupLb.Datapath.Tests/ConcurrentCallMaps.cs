using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// <see cref="FakeLoadBalancerMaps"/> made safe to call from several threads: each write runs under one lock, after a
/// pause outside it (<see cref="BatchPause"/>, calls of at least 10 entries: a parallel step's chunks) so that a parallel writer's calls really are in
/// flight together. Records each call's kind and thread in the order the calls ran, the most calls ever in flight
/// at once, and any small call (under 10 entries: the per-frontend fallback's) that started while a chunk was still
/// running (what the writer's fallback must never see; a step's own calls decided before a failure was seen may).
/// </summary>
internal sealed class ConcurrentCallMaps(FakeLoadBalancerMaps inner) : ILoadBalancerMaps
{
    private readonly Lock gate = new();
    private int active;
    private int activeChunks;

    public FakeLoadBalancerMaps Inner { get; } = inner;
    public TimeSpan BatchPause { get; set; } = TimeSpan.FromMilliseconds(15);

    /// <summary>(kind, entries, managed thread id), in the order the calls ran under the lock.</summary>
    public List<(string Kind, int Entries, int Thread)> Calls { get; } = [];
    public int MaxInFlight { get; private set; }
    public int SmallCallBesideChunk { get; private set; }

    private void Run(string kind, int entries, Action call)
    {
        lock (gate)
        {
            if (entries < 10 && activeChunks > 0)
                SmallCallBesideChunk++;
            if (entries >= 10)
                activeChunks++;
            active++;
            MaxInFlight = Math.Max(MaxInFlight, active);
        }
        try
        {
            if (entries >= 10 && BatchPause > TimeSpan.Zero)
                Thread.Sleep(BatchPause);
            lock (gate)
            {
                Calls.Add((kind, entries, Environment.CurrentManagedThreadId));
                call();
            }
        }
        finally
        {
            lock (gate)
            {
                active--;
                if (entries >= 10)
                    activeChunks--;
            }
        }
    }

    private static string ServiceKind<TKey>(ReadOnlySpan<TKey> keys, Func<TKey, ushort> slot) =>
        keys.Length > 0 && slot(keys[0]) == 0 ? "masters" : "slots";

    public uint ServiceEntryCapacity => Inner.ServiceEntryCapacity;
    public uint BackendCapacity => Inner.BackendCapacity;
    public uint ServiceIdLimit => Inner.ServiceIdLimit;
    public uint ServiceEntryCapacity6 => Inner.ServiceEntryCapacity6;

    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, LbServiceValue>> ReadServiceEntries() { lock (gate) return Inner.ReadServiceEntries(); }
    public IReadOnlyList<KeyValuePair<uint, Lb4Backend>> ReadBackends() { lock (gate) return Inner.ReadBackends(); }
    public IReadOnlyDictionary<uint, string> ReadNames() { lock (gate) return Inner.ReadNames(); }
    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, Lb4Refused>> ReadRefused() { lock (gate) return Inner.ReadRefused(); }
    public ServiceCounters ReadCounters(uint serviceId) => Inner.ReadCounters(serviceId);
    public MapUsage ReverseSocketUsage() => Inner.ReverseSocketUsage();
    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb6ServiceValue>> ReadServiceEntries6() { lock (gate) return Inner.ReadServiceEntries6(); }
    public IReadOnlyList<KeyValuePair<uint, Lb6Backend>> ReadBackends6() { lock (gate) return Inner.ReadBackends6(); }
    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb4Refused>> ReadRefused6() { lock (gate) return Inner.ReadRefused6(); }
    public MapUsage ReverseSocketUsage6() => Inner.ReverseSocketUsage6();
    public MapUsage? AffinityUsage() => Inner.AffinityUsage();

    public void UpdateBackends(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb4Backend> values)
    {
        uint[] i = ids.ToArray();
        Lb4Backend[] v = values.ToArray();
        Run("backends", i.Length, () => Inner.UpdateBackends(i, v));
    }

    public void UpdateServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<LbServiceValue> values)
    {
        var k = keys.ToArray();
        var v = values.ToArray();
        Run(ServiceKind<Lb4ServiceKey>(keys, key => key.BackendSlot), k.Length, () => Inner.UpdateServiceEntries(k, v));
    }

    public void DeleteServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        var k = keys.ToArray();
        Run("delete " + ServiceKind<Lb4ServiceKey>(keys, key => key.BackendSlot), k.Length, () => Inner.DeleteServiceEntries(k));
    }

    public void DeleteBackends(ReadOnlySpan<uint> ids)
    {
        var i = ids.ToArray();
        Run("delete backends", i.Length, () => Inner.DeleteBackends(i));
    }

    public void WriteNames(ReadOnlySpan<uint> serviceIds, ReadOnlySpan<string> names)
    {
        var i = serviceIds.ToArray();
        var n = names.ToArray();
        Run("names", i.Length, () => Inner.WriteNames(i, n));
    }

    public void DeleteNames(ReadOnlySpan<uint> serviceIds)
    {
        var i = serviceIds.ToArray();
        Run("delete names", i.Length, () => Inner.DeleteNames(i));
    }

    public void ResetStats(ReadOnlySpan<uint> serviceIds)
    {
        var i = serviceIds.ToArray();
        Run("counters", i.Length, () => Inner.ResetStats(i));
    }

    public void UpdateRefused(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<Lb4Refused> values)
    {
        var k = keys.ToArray();
        var v = values.ToArray();
        Run("refused", k.Length, () => Inner.UpdateRefused(k, v));
    }

    public void DeleteRefused(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        var k = keys.ToArray();
        Run("delete refused", k.Length, () => Inner.DeleteRefused(k));
    }

    public void UpdateBackends6(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb6Backend> values)
    {
        var i = ids.ToArray();
        var v = values.ToArray();
        Run("backends", i.Length, () => Inner.UpdateBackends6(i, v));
    }

    public void UpdateServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb6ServiceValue> values)
    {
        var k = keys.ToArray();
        var v = values.ToArray();
        Run(ServiceKind<Lb6ServiceKey>(keys, key => key.BackendSlot), k.Length, () => Inner.UpdateServiceEntries6(k, v));
    }

    public void DeleteServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys)
    {
        var k = keys.ToArray();
        Run("delete " + ServiceKind<Lb6ServiceKey>(keys, key => key.BackendSlot), k.Length, () => Inner.DeleteServiceEntries6(k));
    }

    public void DeleteBackends6(ReadOnlySpan<uint> ids)
    {
        var i = ids.ToArray();
        Run("delete backends", i.Length, () => Inner.DeleteBackends6(i));
    }

    public void UpdateRefused6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb4Refused> values)
    {
        var k = keys.ToArray();
        var v = values.ToArray();
        Run("refused", k.Length, () => Inner.UpdateRefused6(k, v));
    }

    public void DeleteRefused6(ReadOnlySpan<Lb6ServiceKey> keys)
    {
        var k = keys.ToArray();
        Run("delete refused", k.Length, () => Inner.DeleteRefused6(k));
    }
}
