namespace CgroupLb.Datapath.Writing;

/// <summary>
/// Limits from bpf/lib/lb_abi.h that the host enforces before writing. Only what no map can tell lives here; the
/// rest is read from the kernel (<see cref="ILoadBalancerMaps.ServiceIdLimit"/> is lb_svc_stats' max_entries).
/// AbiLayoutTests holds each constant equal to the header's define.
/// </summary>
internal static class LbLimits
{
    /// <summary>LB_MAX_BACKEND_SLOTS: the largest backend set one frontend may have (bounds the slot index).</summary>
    public const int MaxBackendSlots = 1024;

    /// <summary>LB_MAX_SERVICE_ID: the size lb_svc_stats is created with; a stand-in only where no map exists (tests).</summary>
    public const uint DefaultServiceIdLimit = 65536;
}
