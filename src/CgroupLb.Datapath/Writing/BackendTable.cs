using System.Net.Sockets;
using System.Runtime.InteropServices;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// Backend ids shared by every frontend that uses the same pod address:port/proto, with reference counts. IPv4 and
/// IPv6 backends draw from this one id space (as in Cilium) and count against one capacity.
/// A backend whose count drops to zero stays known (same id) until <see cref="TakeUnreferenced"/>, which the writer
/// calls once at the end of a plan: a backend dropped by one frontend and picked up by another in the same plan
/// keeps its id, so no slot ever points at a deleted backend.
/// Two tables and nothing else: a backend's id and count live in one struct in the table by backend (no object per
/// backend), and the table by id is also the set of ids in use, so taking a known backend is one lookup and a new one
/// two (a first sync of 50k frontends x 10 takes 500k).
/// </summary>
internal sealed class BackendTable(uint capacity)
{
    private const uint FirstId = 1;
    private const uint LastId = uint.MaxValue - 1;

    private readonly Dictionary<Backend, Entry> byBackend = [];
    private readonly Dictionary<uint, Backend> byId = [];

    // The next id to try. It moves forward instead of reusing the lowest free id, so an id that was just released
    // (whose backend a reader may still resolve) is not given to another backend at once.
    private uint cursor = FirstId;

    // Ids whose count fell to zero (or that were adopted without one) since the last TakeUnreferenced: a plan that
    // changes one frontend looks at its few backends, not at every backend of the cluster.
    private readonly HashSet<uint> maybeUnreferenced = [];

    private struct Entry
    {
        public uint Id;
        public int References;
    }

    public int Count => byBackend.Count;

    public bool TryGetBackend(uint id, out Backend backend) => byId.TryGetValue(id, out backend);

    public bool Contains(uint id) => byId.ContainsKey(id);

    /// <summary>Registers a backend found in the kernel map with its existing id.</summary>
    public void Adopt(uint id, Backend backend)
    {
        if (id is < FirstId or > LastId)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"backend id outside [{FirstId}, {LastId}]");
        byBackend[backend] = new Entry { Id = id };
        byId[id] = backend;
        maybeUnreferenced.Add(id);
    }

    public uint Capacity => capacity;

    /// <summary>Room for <paramref name="backends"/> without growing (a first sync knows how many it brings).</summary>
    public void EnsureCapacity(int backends)
    {
        byBackend.EnsureCapacity(backends);
        byId.EnsureCapacity(backends);
    }

    /// <summary>
    /// Takes a reference; <paramref name="created"/> says the caller must write the new backend to the map. False when
    /// the backend is new and the map (counting backends still to be deleted at the end of the plan) is full.
    /// </summary>
    public bool TryAcquire(Backend backend, out uint id, out bool created)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(byBackend, backend, out bool known);
        if (known)
        {
            entry.References++;
            created = false;
            id = entry.Id;
            return true;
        }
        // The entry is in the table already (Count counts it): take it out again if there is no room for it.
        created = false;
        if (byBackend.Count > capacity || !TryAllocateId(backend, out id))
        {
            byBackend.Remove(backend);
            id = 0;
            return false;
        }
        entry.Id = id; // byId changed, byBackend did not: the reference is still the entry's
        entry.References = 1;
        created = true;
        return true;
    }

    /// <summary>The next free id from the cursor on, recorded for <paramref name="backend"/> in the same lookup.</summary>
    private bool TryAllocateId(Backend backend, out uint id)
    {
        // Among any Count + 1 consecutive ids at least one is free.
        for (long tries = 0; tries <= byId.Count; tries++)
        {
            uint candidate = cursor;
            cursor = candidate == LastId ? FirstId : candidate + 1;
            if (byId.TryAdd(candidate, backend))
            {
                id = candidate;
                return true;
            }
        }
        id = 0;
        return false;
    }

    /// <summary>Undoes the <see cref="TryAcquire"/> that created <paramref name="id"/>, before it was ever written.</summary>
    public void Discard(uint id)
    {
        if (byId.Remove(id, out var backend))
            byBackend.Remove(backend);
    }

    public void AddReference(uint id)
    {
        if (byId.TryGetValue(id, out var backend))
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(byBackend, backend);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry))
                entry.References++;
        }
    }

    public void Release(uint id)
    {
        if (!byId.TryGetValue(id, out var backend))
            return;
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(byBackend, backend);
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry) && --entry.References <= 0)
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
            if (byId.TryGetValue(id, out var backend) && byBackend.TryGetValue(backend, out var entry) && entry.References <= 0)
                (backend.Address.AddressFamily == AddressFamily.InterNetworkV6 ? ipv6 : stale).Add(id);
        }
        maybeUnreferenced.Clear();
        Remove(stale);
        Remove(ipv6);
        stale.Sort();
        ipv6.Sort();
        return stale;
    }

    private void Remove(List<uint> ids)
    {
        foreach (uint id in ids)
        {
            if (byId.Remove(id, out var backend))
                byBackend.Remove(backend);
        }
    }

    /// <summary>Forgets every backend (a reload adopts them again); the id cursor keeps its place.</summary>
    public void Clear()
    {
        maybeUnreferenced.Clear();
        byBackend.Clear();
        byId.Clear();
    }
}
