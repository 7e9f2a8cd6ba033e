using System.Collections.Immutable;
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
        var deletes = applied.Keys.Where(f => !desired.ContainsKey(f));
        return Build(applied, desired.Values, deletes);
    }

    /// <summary>
    /// A diff limited to <paramref name="services"/>: <paramref name="desired"/> holds their desired frontends (others
    /// are ignored), and only applied frontends owned by them (by <see cref="LoadBalancerService.Name"/>) may be
    /// deleted. Frontends of every other service are left alone, however they look.
    /// </summary>
    public static LoadBalancerPlan PlanServices(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired,
        IReadOnlySet<ServiceName> services)
    {
        // A partial sync runs per event against every applied frontend: match owners by the "namespace/name" prefix
        // of the name through a span lookup, so frontends of other services cost no allocation.
        var owners = services.Select(s => s.ToString()).ToHashSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        var ownedDesired = desired.Values.Where(s => IsOwnedBy(s, owners));
        var deletes = new List<Frontend>();
        foreach (var (frontend, service) in applied)
        {
            if (IsOwnedBy(service, owners) && !desired.ContainsKey(frontend))
                deletes.Add(frontend);
        }
        return Build(applied, ownedDesired, deletes);
    }

    /// <summary>The Service that produced a load-balancer service, from the "namespace/name[:port]" name.</summary>
    public static ServiceName? OwnerOf(LoadBalancerService service) =>
        ServiceName.TryParse(service.Name, out ServiceName owner) ? owner : null;

    /// <summary>The map contents after <paramref name="plan"/> has been applied to <paramref name="applied"/>.</summary>
    public static ImmutableDictionary<Frontend, LoadBalancerService> ApplyTo(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        LoadBalancerPlan plan)
    {
        var builder = applied as ImmutableDictionary<Frontend, LoadBalancerService> is { } immutable
            ? immutable.ToBuilder()
            : ImmutableDictionary.CreateRange(applied).ToBuilder();
        foreach (Frontend frontend in plan.Deletes) builder.Remove(frontend);
        foreach (LoadBalancerService service in plan.Upserts) builder[service.Frontend] = service;
        return builder.ToImmutable();
    }

    private static bool IsOwnedBy(LoadBalancerService service, HashSet<string>.AlternateLookup<ReadOnlySpan<char>> owners)
    {
        var name = service.Name.AsSpan();
        int colon = name.IndexOf(':');
        return owners.Contains(colon < 0 ? name : name[..colon]);
    }

    private static LoadBalancerPlan Build(
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied,
        IEnumerable<LoadBalancerService> desired,
        IEnumerable<Frontend> deletes)
    {
        var upserts = desired
            .Where(s => !applied.TryGetValue(s.Frontend, out LoadBalancerService? current) || !current.Equals(s))
            .OrderBy(s => s.Frontend)
            .ToImmutableArray();
        var sortedDeletes = deletes.Order().ToImmutableArray();
        return upserts.IsEmpty && sortedDeletes.IsEmpty ? LoadBalancerPlan.Empty : new LoadBalancerPlan(upserts, sortedDeletes);
    }
}
