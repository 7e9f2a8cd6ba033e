using System.Buffers.Binary;
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
    /// <summary>Every master entry, sorted by frontend.</summary>
    public required IReadOnlyList<SnapshotFrontend> Frontends { get; init; }

    public required IReadOnlyDictionary<uint, Lb4Backend> Backends { get; init; }

    /// <summary>Slot entries no master reaches (no master, or beyond its count), and masters shadowed by another.</summary>
    public required IReadOnlyList<Lb4ServiceKey> UnreachableEntries { get; init; }

    /// <summary>Backends no reachable slot names.</summary>
    public required IReadOnlyList<uint> UnreferencedBackends { get; init; }

    public required IReadOnlyList<KeyValuePair<Lb4ServiceKey, Lb4Refused>> Refused { get; init; }

    /// <summary>Entries in lb4_services, reachable or not.</summary>
    public required int ServiceEntries { get; init; }

    public required uint ServiceEntryCapacity { get; init; }
    public required uint BackendCapacity { get; init; }

    public static MapSnapshot Read(ILoadBalancerMapReader maps)
    {
        var backendList = maps.ReadBackends();
        var backends = new Dictionary<uint, Lb4Backend>(backendList.Count);
        foreach (var (id, value) in backendList)
            backends[id] = value;

        var entries = maps.ReadServiceEntries();
        var masters = new List<KeyValuePair<Lb4ServiceKey, LbServiceValue>>();
        var slots = new Dictionary<Lb4ServiceKey, LbServiceValue>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.Key.BackendSlot == 0)
                masters.Add(entry);
            else
                slots[entry.Key] = entry.Value;
        }
        masters.Sort((a, b) => Compare(a.Key, b.Key));

        var names = maps.ReadNames();
        var unreachable = new List<Lb4ServiceKey>();
        var referenced = new HashSet<uint>();
        var ownerOfId = new Dictionary<uint, Frontend>();
        var seenFrontends = new HashSet<Frontend>();
        var frontends = new List<SnapshotFrontend>(masters.Count);
        foreach (var (key, master) in masters)
        {
            var frontend = new Frontend(key.Address, key.Port, (L4Protocol)key.Proto);
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
                if (backends.ContainsKey(slot.BackendId))
                    referenced.Add(slot.BackendId);
                else
                    holes++;
            }
            if (holes > 0)
                (problems ??= []).Add($"{holes} of {count} slots name no backend");

            frontends.Add(new SnapshotFrontend(key, frontend, master, slotIds, names.GetValueOrDefault(master.ServiceId) ?? "",
                serviceIdValid, problems ?? (IReadOnlyList<string>)[]));
        }
        unreachable.AddRange(slots.Keys);
        unreachable.Sort(Compare);

        var unreferenced = new List<uint>();
        foreach (uint id in backends.Keys)
        {
            if (!referenced.Contains(id))
                unreferenced.Add(id);
        }
        unreferenced.Sort();

        return new MapSnapshot
        {
            Frontends = frontends,
            Backends = backends,
            UnreachableEntries = unreachable,
            UnreferencedBackends = unreferenced,
            Refused = maps.ReadRefused(),
            ServiceEntries = entries.Count,
            ServiceEntryCapacity = maps.ServiceEntryCapacity,
            BackendCapacity = maps.BackendCapacity,
        };
    }

    /// <summary>The backend a slot names, when both exist.</summary>
    public bool TryGetBackend(uint backendId, out Backend backend)
    {
        if (backendId != 0 && Backends.TryGetValue(backendId, out var value))
        {
            backend = new Backend(value.Address, value.Port, (L4Protocol)value.Proto);
            return true;
        }
        backend = default;
        return false;
    }

    private static uint HostOrder(uint be32) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(be32) : be32;

    /// <summary>The order of <see cref="Frontend"/> (address bytes, port, protocol), then scope and slot, without allocating.</summary>
    private static int Compare(Lb4ServiceKey a, Lb4ServiceKey b)
    {
        int c = HostOrder(a.AddressBe).CompareTo(HostOrder(b.AddressBe));
        if (c != 0) return c;
        c = a.Port.CompareTo(b.Port);
        if (c != 0) return c;
        c = a.Proto.CompareTo(b.Proto);
        if (c != 0) return c;
        c = a.Scope.CompareTo(b.Scope);
        return c != 0 ? c : a.BackendSlot.CompareTo(b.BackendSlot);
    }
}

/// <summary>
/// One master entry as decoded: the slots' backend ids in order (0 where the slot is missing; an id whose backend is
/// missing stays, for people to see), the name, and what is wrong with it. A frontend with problems is one the
/// owning writer rewrites whole.
/// </summary>
internal sealed record SnapshotFrontend(
    Lb4ServiceKey Key,
    Frontend Frontend,
    LbServiceValue Master,
    uint[] SlotBackendIds,
    string Name,
    bool ServiceIdValid,
    IReadOnlyList<string> Problems)
{
    public bool IsDamaged => Problems.Count > 0;
}
