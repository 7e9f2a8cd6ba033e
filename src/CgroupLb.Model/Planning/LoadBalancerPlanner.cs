using System.Collections.Immutable;
using System.Runtime.InteropServices;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Planning;

/// <summary>
/// Diffs what the maps hold against what they should hold. Pure and deterministic: upserts and deletes are
/// sorted by frontend, and a frontend whose desired state equals its applied state is never written again.
/// </summary>
public static class LoadBalancerPlanner
{
    /// <summary>A full diff: every applied frontend that is not desired is deleted.</summary>
    public static LoadBalancerPlan Plan(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired)
    {
        var deletes = new List<Frontend>();
        foreach (Frontend frontend in applied.Keys)
        {
            if (!desired.ContainsKey(frontend)) deletes.Add(frontend);
        }
        return Build(applied, desired.Values, deletes);
    }

    /// <summary>
    /// A diff limited to <paramref name="services"/>: <paramref name="desired"/> holds their desired frontends (others
    /// are ignored), and only applied frontends owned by them (<see cref="OwnerOf"/>) may be deleted. Frontends of every
    /// other service are left alone, however they look. Builds an owner index of <paramref name="applied"/> first, so
    /// it costs O(applied); the syncer keeps its index and calls the overload that takes one.
    /// </summary>
    public static LoadBalancerPlan PlanServices(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired,
        IReadOnlySet<ServiceName> services) =>
        PlanServices(applied, desired, services, FrontendOwnerIndex.Build(applied));

    /// <summary>
    /// As <see cref="PlanServices(IReadOnlyDictionary{Frontend, LoadBalancerService}, IReadOnlyDictionary{Frontend, LoadBalancerService}, IReadOnlySet{ServiceName})"/>,
    /// with <paramref name="owners"/> indexing <paramref name="applied"/>: O(the changed services' frontends), whatever
    /// the number of applied frontends.
    /// </summary>
    public static LoadBalancerPlan PlanServices(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired,
        IReadOnlySet<ServiceName> services,
        FrontendOwnerIndex owners)
    {
        var ownedDesired = new List<LoadBalancerService>();
        foreach (LoadBalancerService service in desired.Values)
        {
            if (OwnerOf(service) is { } owner && services.Contains(owner)) ownedDesired.Add(service);
        }
        var deletes = new List<Frontend>();
        foreach (ServiceName service in services)
        {
            foreach (Frontend frontend in owners.FrontendsOf(service))
            {
                if (!desired.ContainsKey(frontend)) deletes.Add(frontend);
            }
        }
        return Build(applied, ownedDesired, deletes);
    }

    /// <summary>
    /// The Service that owns a frontend: its typed <see cref="LoadBalancerService.Owner"/>. Only a frontend read back
    /// from the maps that no current object claims has none; the maps keep nothing but its display name, so that one
    /// is read as "namespace/name[:port]". Names cannot be ambiguous there: namespaces, names and port names are
    /// DNS labels (validated), which hold neither '/' nor ':' and fit the names map whole.
    /// </summary>
    public static ServiceName? OwnerOf(LoadBalancerService service) =>
        service.Owner ?? (ServiceName.TryParse(service.Name, out ServiceName owner) ? owner : null);

    /// <summary>
    /// Replaces in <paramref name="applied"/> (as read from the maps) each frontend whose state equals its desired state
    /// by the desired instance, so it carries its typed owner from then on. In place, on the syncer's own applied table
    /// (nothing to adopt in an empty one, as on a first start).
    /// </summary>
    public static void AdoptOwners(
        Dictionary<Frontend, LoadBalancerService> applied,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired)
    {
        if (applied.Count == 0)
            return;
        foreach ((Frontend frontend, LoadBalancerService wanted) in desired)
        {
            if (wanted.Owner is not null && applied.TryGetValue(frontend, out LoadBalancerService? current)
                && current.Owner != wanted.Owner && current.Equals(wanted))
                applied[frontend] = wanted;
        }
    }

    /// <summary>
    /// Makes <paramref name="applied"/> the map contents after <paramref name="plan"/>, in place: O(the plan), where
    /// rebuilding an immutable view cost a tree node and a few hashes per frontend (50k and more on a first sync).
    /// </summary>
    public static void ApplyInPlace(Dictionary<Frontend, LoadBalancerService> applied, LoadBalancerPlan plan)
    {
        foreach (Frontend frontend in plan.Deletes) applied.Remove(frontend);
        // Sized once on a first sync; otherwise most upserts replace what is there.
        if (applied.Count == 0) applied.EnsureCapacity(plan.Upserts.Length);
        // The indexer replaces the value whatever it equals, so an upsert that only changes the owner is kept.
        foreach (LoadBalancerService service in plan.Upserts) applied[service.Frontend] = service;
    }

    // Equal state under another owner (two services whose display names collide): written again, so the applied
    // state and the owner index follow the new owner.
    private static bool ChangesOwner(LoadBalancerService current, LoadBalancerService wanted) =>
        current.Owner is { } before && wanted.Owner is { } after && before != after;

    private static LoadBalancerPlan Build(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IEnumerable<LoadBalancerService> desired,
        List<Frontend> deletes)
    {
        // No LINQ: a first sync plans every frontend (50k and more), and a sorted copy with a key array per call adds up.
        var changed = new List<LoadBalancerService>(desired is IReadOnlyCollection<LoadBalancerService> all ? all.Count : 0);
        foreach (LoadBalancerService s in desired)
        {
            if (!applied.TryGetValue(s.Frontend, out LoadBalancerService? current) || !current.Equals(s) || ChangesOwner(current, s))
                changed.Add(s);
        }
        // Frontends are unique (the keys of one dictionary), so an unstable sort gives the one order there is.
        CollectionsMarshal.AsSpan(changed).Sort(static (a, b) => a.Frontend.CompareTo(b.Frontend));
        var upserts = ImmutableArray.Create(CollectionsMarshal.AsSpan(changed));
        // Deletes are distinct too (dictionary keys, or frontends of one owner index).
        deletes.Sort();
        var sortedDeletes = ImmutableArray.Create(CollectionsMarshal.AsSpan(deletes));
        return upserts.IsEmpty && sortedDeletes.IsEmpty ? LoadBalancerPlan.Empty : new LoadBalancerPlan(upserts, sortedDeletes);
    }
}
