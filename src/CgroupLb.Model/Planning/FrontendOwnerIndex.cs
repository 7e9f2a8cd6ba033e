using System.Runtime.InteropServices;
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

    private readonly Dictionary<ServiceName, Owned> frontendsByOwner;
    private readonly Dictionary<Frontend, ServiceName> ownerByFrontend;

    public FrontendOwnerIndex()
        : this(0)
    {
    }

    private FrontendOwnerIndex(int capacity)
    {
        frontendsByOwner = new Dictionary<ServiceName, Owned>(capacity);
        ownerByFrontend = new Dictionary<Frontend, ServiceName>(capacity);
    }

    /// <summary>The index of <paramref name="applied"/>, built in one pass (a first sync indexes every frontend at once).</summary>
    public static FrontendOwnerIndex Build(IReadOnlyDictionary<Frontend, LoadBalancerService> applied)
    {
        var index = new FrontendOwnerIndex(applied.Count);
        // The keys of one dictionary are distinct, so nothing indexed needs removing first.
        if (applied is Dictionary<Frontend, LoadBalancerService> table)
        {
            foreach (LoadBalancerService service in table.Values) index.Add(service);
        }
        else
        {
            foreach (LoadBalancerService service in applied.Values) index.Add(service);
        }
        return index;
    }

    /// <summary>The applied frontends owned by <paramref name="service"/>; empty when it owns none.</summary>
    public IReadOnlyCollection<Frontend> FrontendsOf(ServiceName service)
    {
        if (!frontendsByOwner.TryGetValue(service, out Owned owned)) return None;
        return owned.More ?? (IReadOnlyCollection<Frontend>)[owned.First];
    }

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
        Remove(frontend);
        if (applied.TryGetValue(frontend, out LoadBalancerService? service)) Add(service);
    }

    // The frontend must not be indexed yet.
    private void Add(LoadBalancerService service)
    {
        if (LoadBalancerPlanner.OwnerOf(service) is not { } owner) return;
        ownerByFrontend.Add(service.Frontend, owner);
        ref Owned owned = ref CollectionsMarshal.GetValueRefOrAddDefault(frontendsByOwner, owner, out bool exists);
        if (!exists)
            owned = new Owned(service.Frontend, null);
        else if (owned.More is { } more)
            more.Add(service.Frontend);
        else
            owned = new Owned(owned.First, [owned.First, service.Frontend]);
    }

    private void Remove(Frontend frontend)
    {
        if (!ownerByFrontend.Remove(frontend, out ServiceName owner)) return;
        ref Owned owned = ref CollectionsMarshal.GetValueRefOrNullRef(frontendsByOwner, owner);
        if (owned.More is not { } more)
        {
            frontendsByOwner.Remove(owner);
            return;
        }
        more.Remove(frontend);
        if (more.Count == 0) frontendsByOwner.Remove(owner);
        else if (more.Count == 1)
        {
            foreach (Frontend last in more) owned = new Owned(last, null);
        }
    }

    /// <summary>
    /// A Service's frontends: most Services own one (one port, one address family), held inline; a set only for more.
    /// <see cref="First"/> is meaningful only while <see cref="More"/> is null.
    /// </summary>
    private readonly record struct Owned(Frontend First, HashSet<Frontend>? More);
}
