namespace CgroupLb.Datapath.Writing;

/// <summary>Limits from bpf/lib/lb_abi.h that the host enforces before writing.</summary>
internal static class LbLimits
{
    /// <summary>LB_MAX_SERVICE_ID: service ids are 1..MaxServiceId-1 and index lb_svc_stats.</summary>
    public const uint MaxServiceId = 65536;

    /// <summary>LB_MAX_BACKEND_SLOTS: the largest backend set one frontend may have.</summary>
    public const int MaxBackendSlots = 1024;
}
