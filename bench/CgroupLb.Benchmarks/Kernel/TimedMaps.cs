using System.Diagnostics;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// <see cref="ILoadBalancerMaps"/> that passes every call through and adds its wall time and entry count under the
/// operation's name: where a writer's Apply spends its time, split by map operation, for <see cref="FullSyncBreakdown"/>.
/// </summary>
internal sealed class TimedMaps(ILoadBalancerMaps inner) : ILoadBalancerMaps
{
    private readonly Dictionary<string, (TimeSpan Time, long Entries, int Calls)> totals = [];

    public IReadOnlyDictionary<string, (TimeSpan Time, long Entries, int Calls)> Totals => totals;

    public void Reset() => totals.Clear();

    private readonly Lock gate = new();

    // A parallel write step calls from several threads: the times of calls in flight together add up (thread time, not wall).
    private void Add(string operation, long start, int entries)
    {
        var elapsed = Stopwatch.GetElapsedTime(start);
        lock (gate)
        {
            var (time, count, calls) = totals.GetValueOrDefault(operation);
            totals[operation] = (time + elapsed, count + entries, calls + 1);
        }
    }

    public uint ServiceEntryCapacity => inner.ServiceEntryCapacity;
    public uint BackendCapacity => inner.BackendCapacity;
    public uint ServiceIdLimit => inner.ServiceIdLimit;

    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, LbServiceValue>> ReadServiceEntries() => inner.ReadServiceEntries();
    public IReadOnlyList<KeyValuePair<uint, Lb4Backend>> ReadBackends() => inner.ReadBackends();
    public IReadOnlyDictionary<uint, string> ReadNames() => inner.ReadNames();
    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, Lb4Refused>> ReadRefused() => inner.ReadRefused();
    public ServiceCounters ReadCounters(uint serviceId) => inner.ReadCounters(serviceId);
    public MapUsage ReverseSocketUsage() => inner.ReverseSocketUsage();
    public uint ServiceEntryCapacity6 => inner.ServiceEntryCapacity6;
    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb6ServiceValue>> ReadServiceEntries6() => inner.ReadServiceEntries6();
    public IReadOnlyList<KeyValuePair<uint, Lb6Backend>> ReadBackends6() => inner.ReadBackends6();
    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb4Refused>> ReadRefused6() => inner.ReadRefused6();
    public MapUsage ReverseSocketUsage6() => inner.ReverseSocketUsage6();
    public MapUsage? AffinityUsage() => inner.AffinityUsage();

    public void UpdateBackends(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb4Backend> values)
    {
        long start = Stopwatch.GetTimestamp();
        inner.UpdateBackends(ids, values);
        Add("update lb4_backends_v2", start, ids.Length);
    }

    public void UpdateServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<LbServiceValue> values)
    {
        long start = Stopwatch.GetTimestamp();
        inner.UpdateServiceEntries(keys, values);
        Add(keys.Length > 0 && keys[0].BackendSlot == 0 ? "update lb4_services (masters, filter)" : "update lb4_services (slots)", start, keys.Length);
    }

    public void DeleteServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        long start = Stopwatch.GetTimestamp();
        inner.DeleteServiceEntries(keys);
        Add("delete lb4_services", start, keys.Length);
    }

    public void DeleteBackends(ReadOnlySpan<uint> ids)
    {
        long start = Stopwatch.GetTimestamp();
        inner.DeleteBackends(ids);
        Add("clear lb4_backends_v2", start, ids.Length);
    }

    public void WriteNames(ReadOnlySpan<uint> serviceIds, ReadOnlySpan<string> names)
    {
        long start = Stopwatch.GetTimestamp();
        inner.WriteNames(serviceIds, names);
        Add("update lb_svc_names", start, serviceIds.Length);
    }

    public void DeleteNames(ReadOnlySpan<uint> serviceIds)
    {
        long start = Stopwatch.GetTimestamp();
        inner.DeleteNames(serviceIds);
        Add("delete lb_svc_names", start, serviceIds.Length);
    }

    public void ResetStats(ReadOnlySpan<uint> serviceIds)
    {
        long start = Stopwatch.GetTimestamp();
        inner.ResetStats(serviceIds);
        Add("reset lb_svc_stats", start, serviceIds.Length);
    }

    public void UpdateRefused(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<Lb4Refused> values)
    {
        long start = Stopwatch.GetTimestamp();
        inner.UpdateRefused(keys, values);
        Add("update lb4_refused", start, keys.Length);
    }

    public void DeleteRefused(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        long start = Stopwatch.GetTimestamp();
        inner.DeleteRefused(keys);
        Add("delete lb4_refused", start, keys.Length);
    }

    public void UpdateBackends6(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb6Backend> values)
    {
        long start = Stopwatch.GetTimestamp();
        inner.UpdateBackends6(ids, values);
        Add("update lb6_backends_v2", start, ids.Length);
    }

    public void UpdateServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb6ServiceValue> values)
    {
        long start = Stopwatch.GetTimestamp();
        inner.UpdateServiceEntries6(keys, values);
        Add(keys.Length > 0 && keys[0].BackendSlot == 0 ? "update lb6_services (masters)" : "update lb6_services (slots)", start, keys.Length);
    }

    public void DeleteServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys)
    {
        long start = Stopwatch.GetTimestamp();
        inner.DeleteServiceEntries6(keys);
        Add("delete lb6_services", start, keys.Length);
    }

    public void DeleteBackends6(ReadOnlySpan<uint> ids)
    {
        long start = Stopwatch.GetTimestamp();
        inner.DeleteBackends6(ids);
        Add("clear lb6_backends_v2", start, ids.Length);
    }

    public void UpdateRefused6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb4Refused> values)
    {
        long start = Stopwatch.GetTimestamp();
        inner.UpdateRefused6(keys, values);
        Add("update lb6_refused", start, keys.Length);
    }

    public void DeleteRefused6(ReadOnlySpan<Lb6ServiceKey> keys)
    {
        long start = Stopwatch.GetTimestamp();
        inner.DeleteRefused6(keys);
        Add("delete lb6_refused", start, keys.Length);
    }
}
