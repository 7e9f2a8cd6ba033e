using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Planning;

/// <summary>
/// Pins held services to what the maps hold. A source holds a service when it cannot read it and has no last good
/// state to stand in (a manifest that is invalid since before the agent restarted): its absence from the cluster
/// state is then no evidence that it is gone, and the frontends a previous run wrote for it are the best state there
/// is. Making them the desired state means the planner neither upserts nor deletes anything of a held service, in a
/// full diff and in a partial one alike; a held service with nothing applied stays absent.
/// </summary>
public static class HeldServiceFilter
{
    public static IReadOnlyDictionary<Frontend, LoadBalancerService> KeepApplied(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired,
        IReadOnlySet<ServiceName> held)
    {
        if (held.Count == 0) return desired;

        var pinned = new Dictionary<Frontend, LoadBalancerService>(desired.Count);
        foreach ((Frontend frontend, LoadBalancerService service) in desired)
        {
            if (!IsHeld(service, held)) pinned[frontend] = service;
        }
        // Applied last: a frontend the maps give to a held service stays with it even if another service claims it
        // now, because the claim may be the very thing the unreadable document would have changed.
        foreach ((Frontend frontend, LoadBalancerService service) in applied)
        {
            if (IsHeld(service, held)) pinned[frontend] = service;
        }
        return pinned;
    }

    /// <summary>
    /// <see cref="KeepApplied(IReadOnlyDictionary{Frontend, LoadBalancerService}, IReadOnlyDictionary{Frontend, LoadBalancerService}, IReadOnlySet{ServiceName})"/>
    /// for a partial sync of <paramref name="services"/>: the same answer for every frontend the partial plan can touch
    /// (desired frontends and those the planned services own), in O(those frontends) through <paramref name="owners"/>.
    /// </summary>
    public static IReadOnlyDictionary<Frontend, LoadBalancerService> KeepApplied(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired,
        IReadOnlySet<ServiceName> held,
        IReadOnlySet<ServiceName> services,
        FrontendOwnerIndex owners)
    {
        if (held.Count == 0) return desired;

        var pinned = new Dictionary<Frontend, LoadBalancerService>(desired.Count);
        foreach ((Frontend frontend, LoadBalancerService service) in desired)
        {
            if (applied.TryGetValue(frontend, out LoadBalancerService? current) && IsHeld(current, held)) pinned[frontend] = current;
            else if (!IsHeld(service, held)) pinned[frontend] = service;
        }
        foreach (ServiceName service in services)
        {
            if (!held.Contains(service)) continue;
            foreach (Frontend frontend in owners.FrontendsOf(service)) pinned[frontend] = applied[frontend];
        }
        return pinned;
    }

    public static bool IsHeld(LoadBalancerService service, IReadOnlySet<ServiceName> held) =>
        LoadBalancerPlanner.OwnerOf(service) is { } owner && held.Contains(owner);
}
