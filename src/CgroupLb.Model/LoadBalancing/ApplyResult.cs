using System.Collections.Immutable;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// What <see cref="ILoadBalancerWriter.Apply"/> did with a plan: every frontend not listed in <see cref="Refused"/>
/// was written (or deleted) as planned; each refused one keeps what the maps held for it before.
/// </summary>
public sealed record ApplyResult(ImmutableArray<RefusedFrontend> Refused)
{
    public static readonly ApplyResult Applied = new(ImmutableArray<RefusedFrontend>.Empty);

    public bool AllApplied => Refused.IsDefaultOrEmpty;
}
