using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Status;

/// <summary>
/// The one decoder of the pinned load-balancer maps: every master entry with its slots, the backends, names and
/// refusal records, read once and checked. `cgroup-lb status`, the metrics scrape and the writer's reload all read
/// through it; it only reads (see <see cref="ILoadBalancerMapReader"/>). Whatever the maps hold (a count above the
/// slot limit, a service id out of range or shared, a slot naming a missing backend, slots nobody owns), decoding
/// is bounded by the map sizes and <see cref="LbLimits"/>, and each oddity is reported, never thrown. What to do
/// about leftovers is the owning writer's decision alone.
/// </summary>
internal sealed class MapSnapshot
{
    /// <summary>Every master entry of both families, sorted by frontend (IPv4 first).</summary>
    public required IReadOnlyList<SnapshotFrontend> Frontends { get; init; }

    /// <summary>The backends of lb4_backends_v2 and lb6_backends_v2 (free ids left out), keyed by their shared ids.</summary>
    public required IReadOnlyDictionary<uint, Backend> Backends { get; init; }

    /// <summary>Slot entries no master reaches (no master, or beyond its count), and masters shadowed by another.</summary>
    public required IReadOnlyList<ServiceEntryKey> UnreachableEntries { get; init; }

    /// <summary>Backends no reachable slot names.</summary>
    public required IReadOnlyList<uint> UnreferencedBackends { get; init; }

    /// <summary>lb4_refused and lb6_refused, each keyed by its frontend's master key.</summary>
    public required IReadOnlyList<KeyValuePair<ServiceEntryKey, Lb4Refused>> Refused { get; init; }

    /// <summary>Entries in lb4_services_v2, reachable or not.</summary>
    public required int ServiceEntries { get; init; }

    /// <summary>Entries in lb6_services, reachable or not.</summary>
    public required int ServiceEntries6 { get; init; }

    public required uint ServiceEntryCapacity { get; init; }
    public required uint ServiceEntryCapacity6 { get; init; }
    public required uint BackendCapacity { get; init; }

    /// <summary>Ids in use in lb4_backends_v2 and in lb6_backends_v2 (the two arrays share one id space and its capacity).</summary>
    public required int Backends4 { get; init; }
    public required int Backends6 { get; init; }

    public static MapSnapshot Read(ILoadBalancerMapReader maps)
    {
        var backendList = maps.ReadBackends();
        var backendList6 = maps.ReadBackends6();
        var backends = new Dictionary<uint, Backend>(backendList.Count + backendList6.Count);
        foreach (var (id, value) in backendList)
            backends[id] = new Backend(value.Address, value.Port, (L4Protocol)value.Proto);
        foreach (var (id, value) in backendList6)
            backends.TryAdd(id, new Backend(value.Address.Address, value.Port, (L4Protocol)value.Proto)); // an id in both maps: the IPv4 one wins, the other is unreferenced

        // Both families' entries in one shape: the master fields are the same, a slot's address comes from its id.
        var entries4 = maps.ReadServiceEntries();
        var entries6 = maps.ReadServiceEntries6();
        var masters = new List<KeyValuePair<ServiceEntryKey, LbServiceValue>>();
        var slots = new Dictionary<ServiceEntryKey, LbServiceValue>(entries4.Count + entries6.Count);
        // Slots whose copy of the backend address differs from the backend their id names: the programs use the copy.
        HashSet<ServiceEntryKey>? staleCopies = null;
        foreach (var (key4, value) in entries4)
        {
            var key = new ServiceEntryKey(key4);
            if (key4.BackendSlot == 0)
            {
                masters.Add(new(key, value));
                continue;
            }
            slots[key] = value;
            if (backends.TryGetValue(value.BackendId, out var b) && b.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                && !SameBytes(LbServiceValue.Slot(value.ServiceId, value.BackendId, b), value))
                (staleCopies ??= []).Add(key);
        }
        foreach (var (key6, value) in entries6)
        {
            var key = new ServiceEntryKey(key6);
            if (key6.BackendSlot == 0)
            {
                masters.Add(new(key, value.MasterFields));
                continue;
            }
            slots[key] = value.MasterFields;
            if (backends.TryGetValue(value.BackendId, out var b) && b.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                && !SameBytes(Lb6ServiceValue.Slot(value.ServiceId, value.BackendId, b), value))
                (staleCopies ??= []).Add(key);
        }
        masters.Sort((a, b) => a.Key.CompareTo(b.Key));

        var names = maps.ReadNames();
        var unreachable = new List<ServiceEntryKey>();
        var referenced = new HashSet<uint>();
        var ownerOfId = new Dictionary<uint, Frontend>();
        var seenFrontends = new HashSet<Frontend>();
        var frontends = new List<SnapshotFrontend>(masters.Count);
        foreach (var (key, master) in masters)
        {
            var frontend = key.Frontend;
            if (!seenFrontends.Add(frontend))
            {
                // Same address, port and protocol under another scope or padding: not something this agent writes.
                unreachable.Add(key);
                continue;
            }
            List<string>? problems = null;
            bool serviceIdValid = true;
            if (master.ServiceId == 0 || master.ServiceId >= maps.ServiceIdLimit)
            {
                (problems ??= []).Add($"service id {master.ServiceId} is outside 1..{maps.ServiceIdLimit - 1}");
                serviceIdValid = false;
            }
            else if (!ownerOfId.TryAdd(master.ServiceId, frontend))
            {
                (problems ??= []).Add($"service id {master.ServiceId} is also used by {ownerOfId[master.ServiceId]}");
                serviceIdValid = false;
            }
            int count = master.Count;
            if (count > LbLimits.MaxBackendSlots)
            {
                (problems ??= []).Add($"backend count {count} is above the limit of {LbLimits.MaxBackendSlots} slots");
                count = LbLimits.MaxBackendSlots;
            }

            var slotIds = count == 0 ? [] : new uint[count];
            int holes = 0;
            for (int i = 0; i < count; i++)
            {
                if (!slots.Remove(key.WithSlot((ushort)(i + 1)), out var slot))
                {
                    holes++;
                    continue; // id 0: never a backend
                }
                slotIds[i] = slot.BackendId;
                // A slot names a backend of its own family only (ids are shared, maps are not).
                if (backends.TryGetValue(slot.BackendId, out var backend) && backend.Address.AddressFamily == frontend.Address.AddressFamily)
                    referenced.Add(slot.BackendId);
                else
                    holes++;
            }
            if (holes > 0)
                (problems ??= []).Add($"{holes} of {count} slots name no backend");
            if (staleCopies is not null)
            {
                int stale = 0;
                for (int i = 0; i < count; i++)
                {
                    if (staleCopies.Contains(key.WithSlot((ushort)(i + 1))))
                        stale++;
                }
                if (stale > 0)
                    (problems ??= []).Add($"{stale} of {count} slots carry a backend address other than their backend's");
            }

            frontends.Add(new SnapshotFrontend(key, frontend, master, slotIds, names.GetValueOrDefault(master.ServiceId) ?? "",
                serviceIdValid, problems ?? (IReadOnlyList<string>)[]));
        }
        unreachable.AddRange(slots.Keys);
        unreachable.Sort((a, b) => a.CompareTo(b));

        var unreferenced = new List<uint>();
        foreach (uint id in backends.Keys)
        {
            if (!referenced.Contains(id))
                unreferenced.Add(id);
        }
        foreach (var (id, _) in backendList6)
        {
            if (backends[id].Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                unreferenced.Add(id); // shadowed by an IPv4 backend of the same id
        }
        unreferenced.Sort();

        var refused = new List<KeyValuePair<ServiceEntryKey, Lb4Refused>>();
        foreach (var (key, value) in maps.ReadRefused())
            refused.Add(new(new ServiceEntryKey(key), value));
        foreach (var (key, value) in maps.ReadRefused6())
            refused.Add(new(new ServiceEntryKey(key), value));

        return new MapSnapshot
        {
            Frontends = frontends,
            Backends = backends,
            UnreachableEntries = unreachable,
            UnreferencedBackends = unreferenced,
            Refused = refused,
            ServiceEntries = entries4.Count,
            ServiceEntries6 = entries6.Count,
            ServiceEntryCapacity = maps.ServiceEntryCapacity,
            ServiceEntryCapacity6 = maps.ServiceEntryCapacity6,
            BackendCapacity = maps.BackendCapacity,
            Backends4 = backendList.Count,
            Backends6 = backendList6.Count,
        };
    }

    private static bool SameBytes<T>(in T a, in T b) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in a))
            .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in b)));

    /// <summary>The backend a slot names, when both exist.</summary>
    public bool TryGetBackend(uint backendId, out Backend backend)
    {
        if (backendId != 0 && Backends.TryGetValue(backendId, out backend))
            return true;
        backend = default;
        return false;
    }
}

/// <summary>
/// One master entry as decoded (for IPv6, the master fields in the IPv4 value's shape): the slots' backend ids in order (0 where the slot is missing; an id whose backend is
/// missing stays, for people to see), the name, and what is wrong with it. A frontend with problems is one the
/// owning writer rewrites whole.
/// </summary>
internal sealed record SnapshotFrontend(
    ServiceEntryKey Key,
    Frontend Frontend,
    LbServiceValue Master,
    uint[] SlotBackendIds,
    string Name,
    bool ServiceIdValid,
    IReadOnlyList<string> Problems)
{
    public bool IsDamaged => Problems.Count > 0;
}
