using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// In-memory maps that log every operation in order, and can fail the n-th write, so the writer's ordering and
/// rollback are checked without a kernel. <see cref="Reachable"/> plays a connect() against the current contents.
/// <see cref="Log"/> records service and backend entries in the test's notation; <see cref="Mutations"/> counts every
/// write or delete of any map (names, counters and refusals included). Each multi-entry call is one batch:
/// <see cref="Batches"/> counts them, and <see cref="FailBatchAtEntry"/> fails a batch part-way like the kernel does.
/// </summary>
internal sealed class FakeLoadBalancerMaps(uint serviceCapacity = 1024, uint backendCapacity = 1024,
    uint serviceIdLimit = LbLimits.DefaultServiceIdLimit) : ILoadBalancerMaps
{
    public Dictionary<Lb4ServiceKey, LbServiceValue> Services { get; } = [];
    public Dictionary<uint, Lb4Backend> Backends { get; } = [];
    public Dictionary<uint, string> Names { get; } = [];
    public Dictionary<Lb4ServiceKey, Lb4Refused> Refused { get; } = [];
    public Dictionary<Lb6ServiceKey, Lb6ServiceValue> Services6 { get; } = [];
    public Dictionary<uint, Lb6Backend> Backends6 { get; } = [];
    public Dictionary<Lb6ServiceKey, Lb4Refused> Refused6 { get; } = [];
    public HashSet<uint> ResetIds { get; } = [];
    public List<string> Log { get; } = [];

    /// <summary>Every write or delete call on any map, whatever it touched.</summary>
    public int Mutations { get; private set; }

    /// <summary>Calls that carried more than one entry.</summary>
    public int Batches { get; private set; }

    /// <summary>The next multi-entry call fails after writing this many of its entries (0 = never), once.</summary>
    public int FailBatchAtEntry { get; set; }

    /// <summary>Every update of a service entry this returns true for fails (an entry the "kernel" will not take).</summary>
    public Func<Lb4ServiceKey, LbServiceValue, bool>? RejectServiceEntry { get; set; }

    /// <summary>Called after every single-entry mutation, with the maps in their intermediate state.</summary>
    public Action? AfterEachMutation { get; set; }

    /// <summary>Fail the n-th mutation from now (1 = the next one); 0 = never.</summary>
    public int FailAtMutation
    {
        get => failAt == 0 ? 0 : failAt - mutations;
        set => failAt = value == 0 ? 0 : mutations + value;
    }
    private int failAt;
    private int mutations;

    public uint ServiceEntryCapacity { get; } = serviceCapacity;
    public uint BackendCapacity { get; } = backendCapacity;
    public uint ServiceIdLimit { get; } = serviceIdLimit;

    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, LbServiceValue>> ReadServiceEntries() => Services.ToList();
    public IReadOnlyList<KeyValuePair<uint, Lb4Backend>> ReadBackends() => Backends.ToList();
    public IReadOnlyDictionary<uint, string> ReadNames() => new Dictionary<uint, string>(Names);
    public IReadOnlyList<KeyValuePair<Lb4ServiceKey, Lb4Refused>> ReadRefused() => Refused.ToList();
    public ServiceCounters ReadCounters(uint serviceId) => new(0, 0, 0);
    public MapUsage ReverseSocketUsage() => new(MapNames.ReverseSockets, 0, 1024);

    public uint ServiceEntryCapacity6 { get; } = serviceCapacity;
    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb6ServiceValue>> ReadServiceEntries6() => Services6.ToList();
    public IReadOnlyList<KeyValuePair<uint, Lb6Backend>> ReadBackends6() => Backends6.ToList();
    public IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb4Refused>> ReadRefused6() => Refused6.ToList();
    public MapUsage ReverseSocketUsage6() => new(MapNames.ReverseSockets6, 0, 1024);

    public MapUsage? AffinityUsage() => new(MapNames.Affinity, 0, 1024);

    // The IPv6 twins log in the same notation, the address in brackets.
    public void UpdateBackends6(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb6Backend> values)
    {
        Call(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            BatchEntry(i, ids.Length);
            CheckBackendIndex(ids[i]);
            Mutate($"backend+ {ids[i]}=[{values[i].Address}]:{values[i].Port}");
            Backends6[ids[i]] = values[i];
            AfterEachMutation?.Invoke();
        }
    }

    public void UpdateServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb6ServiceValue> values)
    {
        Call(keys.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            BatchEntry(i, keys.Length);
            Mutate(keys[i].BackendSlot == 0
                ? $"master [{keys[i].Address}]:{keys[i].Port} count={values[i].Count}"
                : $"slot [{keys[i].Address}]:{keys[i].Port}#{keys[i].BackendSlot}={values[i].BackendId}");
            Services6[keys[i]] = values[i];
            AfterEachMutation?.Invoke();
        }
    }

    public void DeleteServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys)
    {
        Call(keys.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            BatchEntry(i, keys.Length);
            var key = keys[i];
            if (!Services6.ContainsKey(key))
                continue;
            Mutate(key.BackendSlot == 0 ? $"master- [{key.Address}]:{key.Port}" : $"slot- [{key.Address}]:{key.Port}#{key.BackendSlot}");
            Services6.Remove(key);
            AfterEachMutation?.Invoke();
        }
    }

    public void DeleteBackends6(ReadOnlySpan<uint> ids)
    {
        Call(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            BatchEntry(i, ids.Length);
            Mutate($"backend- {ids[i]}");
            Backends6.Remove(ids[i]);
            AfterEachMutation?.Invoke();
        }
    }

    public void UpdateRefused6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb4Refused> values)
    {
        Call(keys.Length);
        for (int i = 0; i < keys.Length; i++)
            Refused6[keys[i]] = values[i];
    }

    public void DeleteRefused6(ReadOnlySpan<Lb6ServiceKey> keys)
    {
        Call(keys.Length);
        foreach (var key in keys)
            Refused6.Remove(key);
    }

    /// <summary>As <see cref="Reachable"/>, for an IPv6 frontend in lb6_services.</summary>
    public HashSet<string>? Reachable6(System.Net.IPAddress vip, ushort port, byte proto = 6)
    {
        var key = Lb6ServiceKey.Create(vip, port, proto, 0);
        if (!Services6.TryGetValue(key, out var master))
            return null;
        var result = new HashSet<string>();
        for (ushort slot = 1; slot <= master.Count; slot++)
        {
            if (!Services6.TryGetValue(key.WithSlot(slot), out var s) || s.BackendAddress.IsZero)
                result.Add("HOLE");
            else if (!Backends6.TryGetValue(s.BackendId, out var b) || !b.Address.Equals(s.BackendAddress) || b.PortBe != s.BackendPortBe)
                result.Add("SLOT-BACKEND-MISMATCH");
            else
                result.Add($"[{b.Address}]:{b.Port}");
        }
        return result;
    }

    public void UpdateBackends(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb4Backend> values)
    {
        Call(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            BatchEntry(i, ids.Length);
            CheckBackendIndex(ids[i]);
            Mutate($"backend+ {ids[i]}={values[i].Address}:{values[i].Port}");
            Backends[ids[i]] = values[i];
            AfterEachMutation?.Invoke();
        }
    }

    public void UpdateServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<LbServiceValue> values)
    {
        Call(keys.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            BatchEntry(i, keys.Length);
            if (RejectServiceEntry?.Invoke(keys[i], values[i]) == true)
                throw new IOException($"injected rejection of {keys[i]}");
            Mutate(keys[i].BackendSlot == 0
                ? $"master {keys[i].Address}:{keys[i].Port} count={values[i].Count}"
                : $"slot {keys[i].Address}:{keys[i].Port}#{keys[i].BackendSlot}={values[i].BackendId}");
            Services[keys[i]] = values[i];
            AfterEachMutation?.Invoke();
        }
    }

    public void DeleteServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        Call(keys.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            BatchEntry(i, keys.Length);
            var key = keys[i];
            if (!Services.ContainsKey(key))
                continue;
            Mutate(key.BackendSlot == 0 ? $"master- {key.Address}:{key.Port}" : $"slot- {key.Address}:{key.Port}#{key.BackendSlot}");
            Services.Remove(key);
            AfterEachMutation?.Invoke();
        }
    }

    public void DeleteBackends(ReadOnlySpan<uint> ids)
    {
        Call(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            BatchEntry(i, ids.Length);
            uint id = ids[i];
            Mutate($"backend- {id}");
            Backends.Remove(id);
            AfterEachMutation?.Invoke();
        }
    }

    public void WriteNames(ReadOnlySpan<uint> serviceIds, ReadOnlySpan<string> names)
    {
        Call(serviceIds.Length);
        for (int i = 0; i < serviceIds.Length; i++)
            Names[serviceIds[i]] = names[i];
    }

    public void DeleteNames(ReadOnlySpan<uint> serviceIds)
    {
        Call(serviceIds.Length);
        foreach (uint id in serviceIds)
            Names.Remove(id);
    }

    public void ResetStats(ReadOnlySpan<uint> serviceIds)
    {
        Call(serviceIds.Length);
        foreach (uint id in serviceIds)
            ResetIds.Add(id);
    }

    public void UpdateRefused(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<Lb4Refused> values)
    {
        Call(keys.Length);
        for (int i = 0; i < keys.Length; i++)
            Refused[keys[i]] = values[i];
    }

    public void DeleteRefused(ReadOnlySpan<Lb4ServiceKey> keys)
    {
        Call(keys.Length);
        foreach (var key in keys)
            Refused.Remove(key);
    }

    /// <summary>The backend maps are arrays of BackendCapacity + 1 entries: the kernel refuses an index beyond them.</summary>
    private void CheckBackendIndex(uint id)
    {
        if (id == 0 || id > BackendCapacity)
            throw new IOException($"backend id {id} is outside the backend arrays (ids 1..{BackendCapacity})");
    }

    private void Call(int entries)
    {
        Mutations++;
        if (entries > 1)
            Batches++;
    }

    private void BatchEntry(int index, int count)
    {
        if (count > 1 && FailBatchAtEntry > 0 && index == FailBatchAtEntry)
        {
            FailBatchAtEntry = 0;
            throw new IOException($"injected failure of a batch after {index} of {count} entries");
        }
    }

    private void Mutate(string what)
    {
        mutations++;
        if (failAt != 0 && mutations == failAt)
            throw new IOException($"injected failure at {what}");
        Log.Add(what);
    }

    /// <summary>
    /// What a connect() to the frontend could reach right now, exactly as the BPF program decides: null when the
    /// frontend is no service (passes untouched), empty when refused, otherwise every backend any slot 1..count names.
    /// A slot or backend that is missing is reported as the string "HOLE".
    /// </summary>
    public HashSet<string>? Reachable(System.Net.IPAddress vip, ushort port, byte proto = 6)
    {
        var key = Lb4ServiceKey.Create(vip, port, proto, 0);
        if (!Services.TryGetValue(key, out var master))
            return null;
        var result = new HashSet<string>();
        for (ushort slot = 1; slot <= master.Count; slot++)
        {
            // The programs read the slot's own copy of the backend (lb_service_value_v2); the writer must keep it
            // equal to what the slot's id names in lb4_backends_v2.
            if (!Services.TryGetValue(key.WithSlot(slot), out var s) || s.BackendAddressBe == 0)
                result.Add("HOLE");
            else if (!Backends.TryGetValue(s.BackendId, out var b) || b.AddressBe != s.BackendAddressBe || b.PortBe != s.BackendPortBe)
                result.Add("SLOT-BACKEND-MISMATCH");
            else
                result.Add($"{b.Address}:{b.Port}");
        }
        return result;
    }
}
