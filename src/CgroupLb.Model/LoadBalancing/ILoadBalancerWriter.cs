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
    /// Frontends the writer holds a refusal record for (as of the last <see cref="ReadApplied"/> or
    /// <see cref="Apply"/>), so a full sync can drop the records of frontends nobody asks for any more. A frontend
    /// listed in a plan's deletes loses its record.
    /// </summary>
    IReadOnlyCollection<Frontend> ReadRefused();

    /// <summary>
    /// Applies a plan. Each upsert is applied so a concurrent connect sees the old or the new backend set, never a
    /// mix. A frontend that cannot be written (a limit, a full map, a failed update) is refused alone and listed in
    /// the result with its reason; the rest of the plan is applied. Throws only when the writer cannot tell what the
    /// maps hold any more (the caller then diffs everything again).
    /// </summary>
    ApplyResult Apply(LoadBalancerPlan plan);

    /// <summary>
    /// True when the maps hold exactly what this writer last wrote (or adopted by <see cref="ReadApplied"/>): every
    /// frontend and backend entry compared with the writer's own record of it, nothing missing, nothing extra. The
    /// periodic full sync calls it instead of <see cref="ReadApplied"/> and reloads only on false, so an idle agent
    /// checks the kernel without rebuilding its model of it. False means "reload", never "broken": a writer that cannot
    /// check cheaply keeps this default, and every full sync then reloads.
    /// </summary>
    bool VerifyApplied() => false;
}
