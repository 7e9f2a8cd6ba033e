using System.Buffers.Binary;
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
/// The table by backend is keyed by plain integers for IPv4 (address, port and protocol in one 64-bit value, read
/// from the address once): hashing and comparing a <see cref="Backend"/> calls into its <see cref="System.Net.IPAddress"/>
/// each time, and the 500k addresses of a first sync lie scattered through the model's memory (the writer's admission
/// spent most of its time there). IPv6 backends keep the <see cref="Backend"/> itself as their key.
/// </summary>
internal sealed class BackendTable(uint capacity)
{
    private const uint FirstId = 1;

    // Ids are indexes into the backend arrays (lb4/lb6_backends_v2), which hold capacity + 1 entries: id 0 is "none".
    private readonly uint lastId = Math.Max(capacity, FirstId);

    private readonly Dictionary<ulong, Entry> byIPv4 = [];
    private readonly Dictionary<Backend, Entry> byIPv6 = []; // and any other family, which admission refuses anyway
    private readonly Dictionary<uint, Backend> byId = [];

    // The next id to try. It moves forward (wrapping at the last id) instead of reusing the lowest free id, so an id
    // that was just released (whose backend a reader such as status may still resolve) is not given to another
    // backend at once.
    private uint cursor = FirstId;

    // Ids whose count fell to zero (or that were adopted without one) since the last TakeUnreferenced: a plan that
    // changes one frontend looks at its few backends, not at every backend of the cluster.
    private readonly HashSet<uint> maybeUnreferenced = [];

    private struct Entry
    {
        public uint Id;
        public int References;
    }

    public int Count => byIPv4.Count + byIPv6.Count;

    public bool TryGetBackend(uint id, out Backend backend) => byId.TryGetValue(id, out backend);

    public bool Contains(uint id) => byId.ContainsKey(id);

    /// <summary>Registers a backend found in the kernel map with its existing id.</summary>
    public void Adopt(uint id, Backend backend)
    {
        if (id < FirstId || id > lastId)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"backend id outside [{FirstId}, {lastId}]");
        EntryOrAdd(backend, out _) = new Entry { Id = id };
        byId[id] = backend;
        maybeUnreferenced.Add(id);
    }

    public uint Capacity => capacity;

    /// <summary>
    /// Room for <paramref name="backends"/> IPv4 backends without growing (a first sync knows how many it brings, not
    /// of which family; IPv6 grows as it comes rather than every first sync holding room twice).
    /// </summary>
    public void EnsureCapacity(int backends)
    {
        byIPv4.EnsureCapacity(backends);
        byId.EnsureCapacity(backends);
    }

    /// <summary>
    /// Takes a reference; <paramref name="created"/> says the caller must write the new backend to the map. False when
    /// the backend is new and the map (counting backends still to be deleted at the end of the plan) is full.
    /// </summary>
    public bool TryAcquire(Backend backend, out uint id, out bool created)
    {
        ref var entry = ref EntryOrAdd(backend, out bool known);
        if (known)
        {
            entry.References++;
            created = false;
            id = entry.Id;
            return true;
        }
        // The entry is in the table already (Count counts it): take it out again if there is no room for it.
        created = false;
        if (Count > capacity || !TryAllocateId(backend, out id))
        {
            RemoveEntry(backend);
            id = 0;
            return false;
        }
        entry.Id = id; // byId changed, the table by backend did not: the reference is still the entry's
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
            cursor = candidate == lastId ? FirstId : candidate + 1;
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
            RemoveEntry(backend);
    }

    public void AddReference(uint id)
    {
        if (byId.TryGetValue(id, out var backend))
        {
            ref var entry = ref EntryOrNullRef(backend);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry))
                entry.References++;
        }
    }

    public void Release(uint id)
    {
        if (!byId.TryGetValue(id, out var backend))
            return;
        ref var entry = ref EntryOrNullRef(backend);
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
            if (!byId.TryGetValue(id, out var backend))
                continue;
            ref var entry = ref EntryOrNullRef(backend);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry) && entry.References <= 0)
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
                RemoveEntry(backend);
        }
    }

    /// <summary>Forgets every backend (a reload adopts them again); the id cursor keeps its place.</summary>
    public void Clear()
    {
        maybeUnreferenced.Clear();
        byIPv4.Clear();
        byIPv6.Clear();
        byId.Clear();
    }

    /// <summary>
    /// An IPv4 backend's key: address, port and protocol, which is all <see cref="Backend"/>'s equality looks at for
    /// IPv4 (an IPv4 address has no scope id), so two backends share a key exactly when they are equal.
    /// </summary>
    private static bool TryIPv4Key(in Backend backend, out ulong key)
    {
        Span<byte> address = stackalloc byte[4];
        if (backend.Address.AddressFamily != AddressFamily.InterNetwork || !backend.Address.TryWriteBytes(address, out _))
        {
            key = 0;
            return false;
        }
        key = ((ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 32) | ((ulong)backend.Port << 8) | (byte)backend.Protocol;
        return true;
    }

    private ref Entry EntryOrAdd(in Backend backend, out bool known) =>
        ref TryIPv4Key(backend, out ulong key)
            ? ref CollectionsMarshal.GetValueRefOrAddDefault(byIPv4, key, out known)
            : ref CollectionsMarshal.GetValueRefOrAddDefault(byIPv6, backend, out known);

    private ref Entry EntryOrNullRef(in Backend backend) =>
        ref TryIPv4Key(backend, out ulong key)
            ? ref CollectionsMarshal.GetValueRefOrNullRef(byIPv4, key)
            : ref CollectionsMarshal.GetValueRefOrNullRef(byIPv6, backend);

    private void RemoveEntry(in Backend backend)
    {
        if (TryIPv4Key(backend, out ulong key))
            byIPv4.Remove(key);
        else
            byIPv6.Remove(backend);
    }
}
