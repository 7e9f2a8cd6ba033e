using System.Collections.Immutable;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// What the map writer must change: frontends to create or replace (each with its complete desired
/// backend set) and frontends to remove. Both lists are sorted by frontend so applying a plan is deterministic.
/// </summary>
public sealed record LoadBalancerPlan(
    ImmutableArray<LoadBalancerService> Upserts,
    ImmutableArray<Frontend> Deletes)
{
    public static readonly LoadBalancerPlan Empty = new([], []);
    public bool IsEmpty => Upserts.IsEmpty && Deletes.IsEmpty;
}
