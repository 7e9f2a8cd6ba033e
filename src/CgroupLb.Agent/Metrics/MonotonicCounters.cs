namespace CgroupLb.Agent.Metrics;

/// <summary>
/// Turns the BPF per-service counters, which restart from zero whenever a Service's id is reused or its stats are
/// reset (a Service deleted and created again between two reads), into Prometheus counters that only go up. Each
/// key remembers the last raw value and the service id it came from; a new id, or a raw value below the last one,
/// is a reset, and the whole new raw value counts as growth. Keys not seen in a read are forgotten (their series go).
/// </summary>
internal sealed class MonotonicCounters<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, State> stateByKey = new();

    public int Count => stateByKey.Count;

    /// <summary>The exported value for <paramref name="key"/> after reading <paramref name="raw"/> from service <paramref name="serviceId"/>.</summary>
    public ulong Advance(TKey key, uint serviceId, ulong raw)
    {
        if (!stateByKey.TryGetValue(key, out State? state))
        {
            stateByKey[key] = new State { ServiceId = serviceId, LastRaw = raw, Exported = raw };
            return raw;
        }
        bool reset = state.ServiceId != serviceId || raw < state.LastRaw;
        state.Exported += reset ? raw : raw - state.LastRaw;
        state.ServiceId = serviceId;
        state.LastRaw = raw;
        return state.Exported;
    }

    /// <summary>Forgets every key not in <paramref name="present"/> and returns them, so their series can be removed.</summary>
    public IReadOnlyList<TKey> Retain(IReadOnlySet<TKey> present)
    {
        var gone = stateByKey.Keys.Where(k => !present.Contains(k)).ToList();
        foreach (var key in gone)
            stateByKey.Remove(key);
        return gone;
    }

    private sealed class State
    {
        public uint ServiceId;
        public ulong LastRaw;
        public ulong Exported;
    }
}
