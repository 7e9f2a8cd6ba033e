using System.Collections.Immutable;
using System.Net;
using System.Runtime.InteropServices;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Model.Changes;

/// <summary>
/// Records what sources report and nothing more (kube-proxy's ServiceChangeTracker and EndpointSliceCache in
/// one). Services are kept as {previous, current} pairs per name and a pair that returns to its previous value is
/// dropped; endpoint slices are kept per service with an applied and a pending version each, because an endpoint
/// may leave one slice and join another in two separate events. <see cref="CheckoutChanges"/> folds the pending
/// changes into the applied state and hands the syncer the set of services to recompute; the state's tables are
/// persistent maps (<see cref="PersistentHashMap{TKey,TValue}"/>), so a checkout costs O(changes) and every state
/// handed out stays as it was (the syncer keeps one past the next checkout). Services a source holds
/// (<see cref="IClusterChangeSink.OnServiceHeld"/>) are kept as a set; a flip marks the service changed.
/// Every member is thread-safe: sources call in from watcher threads while the syncer checks out on its own.
/// </summary>
public sealed class ClusterChangeTracker : IClusterChangeSink
{
    private readonly object gate = new();
    private readonly ClusterObjectParser parser;
    private readonly ILogger logger;
    private readonly ImmutableHashSet<string> requiredSources;
    private readonly HashSet<string> syncedSources = new(StringComparer.Ordinal);

    // Wakes the syncer. At most one permit, so any number of events before it runs become one wake-up.
    private readonly SemaphoreSlim changeSignal = new(0, 1);

    private Dictionary<ServiceName, ServiceChange> serviceChangeByName = new();
    private PersistentHashMap<ServiceName, ServiceSnapshot> appliedServices = PersistentHashMap<ServiceName, ServiceSnapshot>.Empty;

    private readonly Dictionary<ServiceName, SliceTracker> sliceTrackerByService = new();
    private readonly Dictionary<(string Namespace, string Slice), ServiceName> serviceBySlice = new();
    // The services whose slice tracker has pending versions, so a checkout visits only those (O(changes), not O(N)).
    // A checkout hands this set out as the base of its changed services and starts a new one.
    private HashSet<ServiceName> servicesWithPendingSlices = new();
    private PersistentHashMap<ServiceName, ImmutableArray<EndpointSliceInfo>> appliedSlices =
        PersistentHashMap<ServiceName, ImmutableArray<EndpointSliceInfo>>.Empty;

    // Held services as the source reports them now, and those whose held state flipped since the last checkout.
    private readonly HashSet<ServiceName> heldServices = new();
    private readonly HashSet<ServiceName> heldFlips = new();
    // What the last checkout handed out for heldServices: it changes only when heldFlips is not empty.
    private ImmutableHashSet<ServiceName> heldSnapshot = ImmutableHashSet<ServiceName>.Empty;

    // kube-proxy's lastChangeTriggerTimes: per service, the trigger times of slice changes not yet checked out.
    private Dictionary<ServiceName, List<DateTimeOffset>> triggerTimesByService = new();
    private readonly DateTimeOffset startedAt;

    private NodeInfo? appliedNode;
    private NodeInfo? pendingNode;
    private bool nodeChangePending;

    // Every Node's addresses (NodePort): per node what it reported, and per address how many nodes report it, so a
    // Node event costs O(its addresses) and the sorted set is built once per checkout, only after it changed.
    private readonly Dictionary<string, ImmutableArray<IPAddress>> addressesByNode = new(StringComparer.Ordinal);
    private readonly Dictionary<IPAddress, int> nodeCountByAddress = new();
    private bool nodeAddressSetTouched;
    private ImmutableArray<IPAddress> appliedNodeAddresses = [];

    /// <param name="nodeName">This node: its Node gives the zone; every Node gives its addresses.</param>
    /// <param name="requiredSources">Sources that must call <see cref="OnSynced"/> before <see cref="IsSynced"/> turns true.</param>
    /// <param name="time">The clock: change trigger times from before the tracker started are not latencies (kube-proxy's rule).</param>
    public ClusterChangeTracker(string nodeName, IEnumerable<string> requiredSources, ClusterObjectParser? parser = null, ILogger? logger = null,
        TimeProvider? time = null)
    {
        NodeName = nodeName;
        startedAt = (time ?? TimeProvider.System).GetUtcNow();
        this.requiredSources = requiredSources.ToImmutableHashSet(StringComparer.Ordinal);
        this.logger = logger ?? NullLogger.Instance;
        this.parser = parser ?? new ClusterObjectParser(this.logger);
    }

    public string NodeName { get; }

    /// <summary>True once every required source has delivered its initial state; nothing may be written before.</summary>
    public bool IsSynced
    {
        get
        {
            lock (gate) return requiredSources.IsSubsetOf(syncedSources);
        }
    }

    /// <summary>Whether a checkout now would return changes.</summary>
    public bool HasPendingChanges
    {
        get
        {
            lock (gate)
                return serviceChangeByName.Count > 0 || nodeChangePending || heldFlips.Count > 0 || servicesWithPendingSlices.Count > 0;
        }
    }

    /// <summary>
    /// How many services have Service changes and how many have EndpointSlice changes waiting for the next checkout
    /// (kube-proxy's service_changes_pending and endpoint_changes_pending).
    /// </summary>
    public (int Services, int Endpoints) PendingChangeCounts
    {
        get
        {
            lock (gate) return (serviceChangeByName.Count, servicesWithPendingSlices.Count);
        }
    }

    /// <summary>The services sources hold right now (not necessarily checked out yet), sorted.</summary>
    public IReadOnlyList<ServiceName> HeldServices
    {
        get
        {
            lock (gate) return heldServices.Order().ToList();
        }
    }

    public void OnService(V1Service? previous, V1Service? current)
    {
        V1Service? named = current ?? previous;
        if (named is null) return;
        var name = ServiceName.Of(named.Metadata);
        // Parse outside the lock: it validates and may log, and needs no shared state.
        ServiceSnapshot? snapshot = current is null ? null : parser.ParseService(current);
        bool changed;
        lock (gate)
        {
            if (!serviceChangeByName.TryGetValue(name, out ServiceChange? change))
            {
                change = new ServiceChange(appliedServices.GetValueOrDefault(name));
                serviceChangeByName[name] = change;
            }
            change.Current = snapshot;
            // Back where it started (or an update that touched nothing we use): nothing to do for this service.
            changed = !Equals(change.Previous, change.Current);
            if (!changed) serviceChangeByName.Remove(name);
        }
        if (changed) Signal();
    }

    public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current)
    {
        V1EndpointSlice? named = current ?? previous;
        if (named is null || string.IsNullOrEmpty(named.Metadata?.Name)) return;
        var key = (ServiceName.Of(named.Metadata).Namespace, named.Metadata.Name);
        EndpointSliceInfo? info = current is null ? null : parser.ParseEndpointSlice(current);
        ServiceName? owner = info?.Service ?? (current is null ? null : ClusterObjectParser.OwningService(current));
        DateTimeOffset? triggerTime = ChangeTriggerTime.Of(current?.Metadata);
        bool changed = false;
        lock (gate)
        {
            // The slice may have been relabelled to another service (or lost its label): withdraw it from the old one.
            if (serviceBySlice.TryGetValue(key, out ServiceName oldOwner) && oldOwner != owner)
            {
                changed |= SetPendingSlice(oldOwner, key.Name, null);
                serviceBySlice.Remove(key);
            }
            if (owner is { } service)
            {
                bool sliceChanged = SetPendingSlice(service, key.Name, info);
                changed |= sliceChanged;
                if (sliceChanged && triggerTime is { } at && at > startedAt && servicesWithPendingSlices.Contains(service))
                {
                    if (!triggerTimesByService.TryGetValue(service, out List<DateTimeOffset>? times))
                        triggerTimesByService[service] = times = [];
                    // The same stamp seen again (a re-read file, a relist) is the same change, observed once.
                    if (!times.Contains(at))
                        times.Add(at);
                }
                if (info is null) serviceBySlice.Remove(key);
                else serviceBySlice[key] = service;
            }
        }
        if (changed) Signal();
    }

    public void OnNode(V1Node? previous, V1Node? current)
    {
        string? name = (current ?? previous)?.Metadata?.Name;
        if (string.IsNullOrEmpty(name)) return;
        bool own = name == NodeName;
        NodeInfo? info = own && current is not null ? ClusterObjectParser.ParseNode(current) : null;
        ImmutableArray<IPAddress> addresses = current is null ? [] : ClusterObjectParser.ParseNodeAddresses(current);
        bool changed;
        lock (gate)
        {
            bool setChanged = SetNodeAddresses(name, addresses);
            nodeAddressSetTouched |= setChanged;
            if (own) pendingNode = info;
            // A set touched and restored before the checkout still wakes the syncer once; the checkout compares
            // the sets themselves, so it reports no change and nothing is resynced.
            nodeChangePending = !Equals(appliedNode, pendingNode) || nodeAddressSetTouched;
            changed = nodeChangePending && (own || setChanged);
        }
        if (changed) Signal();
    }

    /// <summary>Records one node's addresses (empty: gone); returns whether the set of all nodes' addresses changed.</summary>
    private bool SetNodeAddresses(string node, ImmutableArray<IPAddress> addresses)
    {
        ImmutableArray<IPAddress> before = addressesByNode.GetValueOrDefault(node, []);
        if (before.AsSpan().SequenceEqual(addresses.AsSpan())) return false;
        if (addresses.IsEmpty) addressesByNode.Remove(node);
        else addressesByNode[node] = addresses;

        bool setChanged = false;
        foreach (IPAddress address in before)
        {
            if (addresses.Contains(address)) continue;
            int count = nodeCountByAddress[address] - 1;
            if (count == 0)
            {
                nodeCountByAddress.Remove(address);
                setChanged = true;
            }
            else nodeCountByAddress[address] = count;
        }
        foreach (IPAddress address in addresses)
        {
            if (before.Contains(address)) continue;
            int count = nodeCountByAddress.GetValueOrDefault(address) + 1;
            nodeCountByAddress[address] = count;
            setChanged |= count == 1;
        }
        return setChanged;
    }

    public void OnServiceHeld(ServiceName service, bool held)
    {
        lock (gate)
        {
            bool flipped = held ? heldServices.Add(service) : heldServices.Remove(service);
            if (!flipped) return;
            // Held and released again before the syncer looked: for it, nothing happened.
            if (!heldFlips.Remove(service)) heldFlips.Add(service);
        }
        Signal();
    }

    public void OnSynced(string source)
    {
        bool becameSynced;
        lock (gate)
        {
            bool before = requiredSources.IsSubsetOf(syncedSources);
            syncedSources.Add(source);
            becameSynced = !before && requiredSources.IsSubsetOf(syncedSources);
        }
        if (!requiredSources.Contains(source))
            logger.LogDebug("Source {Source} reported synced but is not required", source);
        if (becameSynced)
        {
            logger.LogInformation("All sources synced ({Sources})", string.Join(", ", requiredSources.Order(StringComparer.Ordinal)));
            Signal();
        }
    }

    /// <summary>
    /// Completes when something changed since the last wake-up (or the tracker became synced). Many events while
    /// nobody waits complete a single wait.
    /// </summary>
    public Task WaitForChangesAsync(CancellationToken cancellationToken) => changeSignal.WaitAsync(cancellationToken);

    /// <summary>As <see cref="WaitForChangesAsync(CancellationToken)"/>; false when <paramref name="timeout"/> passed first.</summary>
    public Task<bool> WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        changeSignal.WaitAsync(timeout, cancellationToken);

    /// <summary>
    /// Applies every pending change and returns which services it touched, with the resulting state. Services are
    /// listed even if their final load-balancing state happens to equal the old one; the planner finds that out.
    /// </summary>
    public ClusterChanges CheckoutChanges()
    {
        lock (gate)
        {
            // The changed services start as the pending-slice set itself, hashed as the events came in: handed out,
            // not copied (a first checkout of N services hashed N names into a new set here), and replaced by a new
            // set that grows with the next round's changes only.
            HashSet<ServiceName> changed = servicesWithPendingSlices;
            servicesWithPendingSlices = new HashSet<ServiceName>();
            if (changed.Count > 0)
            {
                var slices = appliedSlices.ToBuilder();
                foreach (ServiceName service in changed)
                {
                    SliceTracker tracker = sliceTrackerByService[service];
                    ImmutableArray<EndpointSliceInfo> merged = tracker.ApplyPending();
                    if (merged.IsEmpty) slices.Remove(service);
                    else slices[service] = merged;
                    if (tracker.IsEmpty) sliceTrackerByService.Remove(service);
                }
                appliedSlices = slices.ToImmutable();
            }

            if (serviceChangeByName.Count > 0)
            {
                if (changed.Count == 0) changed.EnsureCapacity(serviceChangeByName.Count);
                var services = appliedServices.ToBuilder();
                foreach ((ServiceName name, ServiceChange change) in serviceChangeByName)
                {
                    changed.Add(name);
                    if (change.Current is null) services.Remove(name);
                    else services[name] = change.Current;
                }
                appliedServices = services.ToImmutable();
                serviceChangeByName = Cleared(serviceChangeByName);
            }

            ImmutableArray<DateTimeOffset> triggerTimes = [];
            if (triggerTimesByService.Count > 0)
            {
                triggerTimes = SortedTriggerTimes(triggerTimesByService);
                triggerTimesByService = Cleared(triggerTimesByService);
            }

            if (heldFlips.Count > 0)
            {
                changed.UnionWith(heldFlips);
                heldFlips.Clear();
                heldSnapshot = heldServices.Count == 0 ? ImmutableHashSet<ServiceName>.Empty : heldServices.ToImmutableHashSet();
            }

            bool addressesChanged = false;
            if (nodeAddressSetTouched)
            {
                var addresses = ClusterState.SortedDistinct(nodeCountByAddress.Keys);
                addressesChanged = !addresses.AsSpan().SequenceEqual(appliedNodeAddresses.AsSpan());
                if (addressesChanged) appliedNodeAddresses = addresses;
                nodeAddressSetTouched = false;
            }
            bool nodeChanged = !Equals(appliedNode, pendingNode);
            appliedNode = pendingNode;
            nodeChangePending = false;

            return new ClusterChanges(changed, nodeChanged, new ClusterState(appliedServices, appliedSlices, appliedNode) { NodeAddresses = appliedNodeAddresses })
            {
                NodeAddressesChanged = addressesChanged,
                HeldServices = heldSnapshot,
                ChangeTriggerTimes = triggerTimes,
            };
        }
    }

    // Dictionary.Clear clears every bucket of its capacity: after a first checkout of N services that would be O(N)
    // on every later checkout. A table that held many changes is dropped instead.
    private const int ClearedTableLimit = 64;

    private static Dictionary<ServiceName, T> Cleared<T>(Dictionary<ServiceName, T> table)
    {
        if (table.Count > ClearedTableLimit) return new Dictionary<ServiceName, T>();
        table.Clear();
        return table;
    }

    /// <summary>Every service's trigger times in one array, oldest first.</summary>
    private static ImmutableArray<DateTimeOffset> SortedTriggerTimes(Dictionary<ServiceName, List<DateTimeOffset>> timesByService)
    {
        int count = 0;
        foreach (List<DateTimeOffset> times in timesByService.Values) count += times.Count;
        var all = new DateTimeOffset[count];
        int at = 0;
        foreach (List<DateTimeOffset> times in timesByService.Values)
        {
            times.CopyTo(all, at);
            at += times.Count;
        }
        Array.Sort(all);
        return ImmutableCollectionsMarshal.AsImmutableArray(all);
    }

    private bool SetPendingSlice(ServiceName service, string slice, EndpointSliceInfo? info)
    {
        if (!sliceTrackerByService.TryGetValue(service, out SliceTracker? tracker))
        {
            tracker = new SliceTracker();
            sliceTrackerByService[service] = tracker;
        }
        bool changed = tracker.SetPending(slice, info);
        if (tracker.HasPending) servicesWithPendingSlices.Add(service);
        else
        {
            // Back where it started: nothing will be programmed, so there is no latency to report either.
            servicesWithPendingSlices.Remove(service);
            triggerTimesByService.Remove(service);
            if (tracker.IsEmpty) sliceTrackerByService.Remove(service);
        }
        return changed;
    }

    private void Signal()
    {
        // Release throws when the permit is already there; that is exactly the coalescing we want.
        try
        {
            if (changeSignal.CurrentCount == 0) changeSignal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private sealed class ServiceChange(ServiceSnapshot? previous)
    {
        public ServiceSnapshot? Previous { get; } = previous;
        public ServiceSnapshot? Current { get; set; }
    }

    /// <summary>
    /// The slices of one service, each with the version last checked out and the version reported since. The applied
    /// versions are the sorted array the last checkout handed out (shared with the state, not copied per service), and
    /// the pending ones a dictionary that exists only while something is pending: at 10k services most trackers hold
    /// one slice and nothing pending, and a sorted dictionary plus an empty dictionary each were most of their weight.
    /// </summary>
    private sealed class SliceTracker
    {
        private static readonly Comparison<EndpointSliceInfo> ByName = (a, b) => string.CompareOrdinal(a.Name, b.Name);

        private ImmutableArray<EndpointSliceInfo> applied = [];
        private Dictionary<string, EndpointSliceInfo?>? pendingBySlice;

        public bool HasPending => pendingBySlice is { Count: > 0 };
        public bool IsEmpty => applied.IsEmpty && !HasPending;

        /// <summary>Records a slice's new version (null: gone). Returns whether it differs from what was applied.</summary>
        public bool SetPending(string slice, EndpointSliceInfo? info)
        {
            if (Equals(Applied(slice), info))
            {
                pendingBySlice?.Remove(slice);
                return false;
            }
            (pendingBySlice ??= new Dictionary<string, EndpointSliceInfo?>(StringComparer.Ordinal))[slice] = info;
            return true;
        }

        public ImmutableArray<EndpointSliceInfo> ApplyPending()
        {
            if (pendingBySlice is not { Count: > 0 } pending)
            {
                pendingBySlice = null;
                return applied;
            }
            if (pending.Count == 1)
            {
                // The usual case (a first checkout, or one slice changed): one array, no builder and no sort.
                foreach ((string slice, EndpointSliceInfo? info) in pending)
                {
                    int index = IndexOf(slice);
                    // SetPending records only versions that differ from the applied one, so a missing slice is not null.
                    applied = index >= 0
                        ? info is null ? applied.RemoveAt(index) : applied.SetItem(index, info)
                        : applied.Insert(~index, info!);
                }
                pendingBySlice = null;
                return applied;
            }
            var merged = ImmutableArray.CreateBuilder<EndpointSliceInfo>(applied.Length + pending.Count);
            foreach (EndpointSliceInfo info in applied)
            {
                if (!pending.ContainsKey(info.Name)) merged.Add(info);
            }
            foreach (EndpointSliceInfo? info in pending.Values)
            {
                if (info is not null) merged.Add(info);
            }
            merged.Sort(ByName);
            applied = merged.DrainToImmutable();
            pendingBySlice = null;
            return applied;
        }

        private EndpointSliceInfo? Applied(string slice)
        {
            int index = IndexOf(slice);
            return index >= 0 ? applied[index] : null;
        }

        /// <summary>The slice's index in <see cref="applied"/>, or the complement of where it would go.</summary>
        private int IndexOf(string slice)
        {
            int lo = 0, hi = applied.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                int c = string.CompareOrdinal(applied[mid].Name, slice);
                if (c == 0) return mid;
                if (c < 0) lo = mid + 1;
                else hi = mid - 1;
            }
            return ~lo;
        }
    }
}
