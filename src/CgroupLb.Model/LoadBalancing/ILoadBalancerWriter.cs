namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// The only stage that touches kernel state. The planner hands it changes; it reports what the maps
/// actually hold so a restarted agent diffs against reality, not against an empty memory.
/// </summary>
public interface ILoadBalancerWriter
{
    /// <summary>Frontends as they are in the maps now, keyed by frontend.</summary>
    IReadOnlyDictionary<Frontend, LoadBalancerService> ReadApplied();

    /// <summary>
    /// Applies a plan. Each upsert is applied so a concurrent connect sees the old or the new backend set, never a
    /// mix. Throws <see cref="MapWriteException"/> naming the frontend on failure; frontends already applied stay applied.
    /// </summary>
    void Apply(LoadBalancerPlan plan);
}
