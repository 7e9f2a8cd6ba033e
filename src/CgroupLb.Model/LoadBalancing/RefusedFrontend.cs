namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// One frontend of a plan that the writer did not write: the desired service it was asked for, the reason, and a
/// sentence for people naming the limit. The maps still hold what they held for it before the plan (or nothing).
/// </summary>
public sealed record RefusedFrontend(LoadBalancerService Service, RefusalReason Reason, string Detail)
{
    public Frontend Frontend => Service.Frontend;
}
