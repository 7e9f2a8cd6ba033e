using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// Backend ids shared by every frontend that uses the same pod address:port/proto, with reference counts. IPv4 and
/// IPv6 backends draw from this one id space (as in Cilium) and count against one capacity.
/// A backend whose count drops to zero stays known (same id) until <see cref="TakeUnreferenced"/>, which the writer
/// calls once at the end of a plan: a backend dropped by one frontend and picked up by another in the same plan
/// keeps its id, so no slot ever points at a deleted backend.
/// </summary>
internal sealed class BackendTable(uint capacity)
{
    private readonly Dictionary<Backend, Entry> byBackend = [];
    private readonly Dictionary<uint, Backend> byId = [];
    private readonly IdAllocator ids = new(1, uint.MaxValue - 1);

    // Ids whose count fell to zero (or that were adopted without one) since the last TakeUnreferenced: a plan that
    // changes one frontend looks at its few backends, not at every backend of the cluster.
    private readonly HashSet<uint> maybeUnreferenced = [];

    private sealed class Entry(uint id)
    {
        public uint Id { get; } = id;
        public int References { get; set; }
    }

    public int Count => byBackend.Count;

    public bool TryGetBackend(uint id, out Backend backend) => byId.TryGetValue(id, out backend);

    public bool Contains(uint id) => byId.ContainsKey(id);

    /// <summary>Registers a backend found in the kernel map with its existing id.</summary>
    public void Adopt(uint id, Backend backend)
    {
        ids.MarkUsed(id);
        byBackend[backend] = new Entry(id);
        byId[id] = backend;
        maybeUnreferenced.Add(id);
    }

    public uint Capacity => capacity;

    /// <summary>Room for <paramref name="backends"/> without growing (a first sync knows how many it brings).</summary>
    public void EnsureCapacity(int backends)
    {
        byBackend.EnsureCapacity(backends);
        byId.EnsureCapacity(backends);
        ids.EnsureCapacity(backends);
    }

    /// <summary>
    /// Takes a reference; <paramref name="created"/> says the caller must write the new backend to the map. False when
    /// the backend is new and the map (counting backends still to be deleted at the end of the plan) is full.
    /// </summary>
    public bool TryAcquire(Backend backend, out uint id, out bool created)
    {
        if (byBackend.TryGetValue(backend, out var entry))
        {
            entry.References++;
            created = false;
            id = entry.Id;
            return true;
        }
        created = false;
        if (byBackend.Count >= capacity || !ids.TryAllocate(out id))
        {
            id = 0;
            return false;
        }
        entry = new Entry(id) { References = 1 };
        byBackend[backend] = entry;
        byId[id] = backend;
        created = true;
        return true;
    }

    /// <summary>Undoes the <see cref="TryAcquire"/> that created <paramref name="id"/>, before it was ever written.</summary>
    public void Discard(uint id)
    {
        if (byId.Remove(id, out var backend))
        {
            byBackend.Remove(backend);
            ids.Release(id);
        }
    }

    public void AddReference(uint id)
    {
        if (byId.TryGetValue(id, out var backend))
            byBackend[backend].References++;
    }

    public void Release(uint id)
    {
        if (byId.TryGetValue(id, out var backend) && --byBackend[backend].References <= 0)
            maybeUnreferenced.Add(id);
    }

    /// <summary>
    /// Removes and returns the ids of backends no frontend references any more, split by the map they live in: IPv4
    /// ids returned, IPv6 ids in <paramref name="ipv6"/>.
    /// </summary>
    public List<uint> TakeUnreferenced(out List<uint> ipv6)
    {
        var stale = new List<uint>();
        ipv6 = [];
        foreach (uint id in maybeUnreferenced)
        {
            // A candidate may have been taken again since its count fell, or discarded (and its id perhaps reused).
            if (byId.TryGetValue(id, out var backend) && byBackend[backend].References <= 0)
                (backend.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? ipv6 : stale).Add(id);
        }
        maybeUnreferenced.Clear();
        foreach (uint id in stale.Concat(ipv6))
        {
            byBackend.Remove(byId[id]);
            byId.Remove(id);
            ids.Release(id);
        }
        stale.Sort();
        ipv6.Sort();
        return stale;
    }

    public void Clear()
    {
        maybeUnreferenced.Clear();
        byBackend.Clear();
        byId.Clear();
        ids.Clear();
    }
}
