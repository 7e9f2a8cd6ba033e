using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Planning;

/// <summary>
/// Which applied frontends each Service owns, kept beside the syncer's applied state so a partial sync finds a changed
/// service's frontends in O(its frontends) instead of scanning every applied frontend. Owners come from
/// <see cref="LoadBalancerPlanner.OwnerOf"/>. Not thread-safe: the syncer updates it under its own lock.
/// </summary>
public sealed class FrontendOwnerIndex
{
    private static readonly IReadOnlyCollection<Frontend> None = [];

    private readonly Dictionary<ServiceName, HashSet<Frontend>> frontendsByOwner = new();
    private readonly Dictionary<Frontend, ServiceName> ownerByFrontend = new();

    public static FrontendOwnerIndex Build(IReadOnlyDictionary<Frontend, LoadBalancerService> applied)
    {
        var index = new FrontendOwnerIndex();
        foreach (LoadBalancerService service in applied.Values) index.Set(service);
        return index;
    }

    /// <summary>The applied frontends owned by <paramref name="service"/>; empty when it owns none.</summary>
    public IReadOnlyCollection<Frontend> FrontendsOf(ServiceName service) =>
        frontendsByOwner.TryGetValue(service, out HashSet<Frontend>? frontends) ? frontends : None;

    /// <summary>
    /// Follows <paramref name="applied"/> after <paramref name="plan"/>: every frontend the plan named is indexed as
    /// <paramref name="applied"/> now has it (or dropped when it has none), so a plan applied only in part stays right.
    /// </summary>
    public void Follow(IReadOnlyDictionary<Frontend, LoadBalancerService> applied, LoadBalancerPlan plan)
    {
        foreach (Frontend frontend in plan.Deletes) Refresh(applied, frontend);
        foreach (LoadBalancerService service in plan.Upserts) Refresh(applied, service.Frontend);
    }

    private void Refresh(IReadOnlyDictionary<Frontend, LoadBalancerService> applied, Frontend frontend)
    {
        if (applied.TryGetValue(frontend, out LoadBalancerService? service)) Set(service);
        else Remove(frontend);
    }

    private void Set(LoadBalancerService service)
    {
        Remove(service.Frontend);
        if (LoadBalancerPlanner.OwnerOf(service) is not { } owner) return;
        if (!frontendsByOwner.TryGetValue(owner, out HashSet<Frontend>? frontends))
        {
            frontends = new HashSet<Frontend>();
            frontendsByOwner[owner] = frontends;
        }
        frontends.Add(service.Frontend);
        ownerByFrontend[service.Frontend] = owner;
    }

    private void Remove(Frontend frontend)
    {
        if (!ownerByFrontend.Remove(frontend, out ServiceName owner)) return;
        HashSet<Frontend> frontends = frontendsByOwner[owner];
        frontends.Remove(frontend);
        if (frontends.Count == 0) frontendsByOwner.Remove(owner);
    }
}
