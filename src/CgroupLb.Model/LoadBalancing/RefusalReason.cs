namespace CgroupLb.Model.LoadBalancing;

/// <summary>Why a writer did not program a frontend as asked. The metric label is <see cref="RefusalReasons.Label"/>.</summary>
public enum RefusalReason
{
    /// <summary>The service map has no room for the frontend's master and slots.</summary>
    ServiceMapFull,

    /// <summary>The backend map has no room for the backends the frontend adds.</summary>
    BackendMapFull,

    /// <summary>Every service id is in use.</summary>
    NoServiceId,

    /// <summary>An address family or protocol the data path cannot write (IPv6 on the IPv4 path).</summary>
    Unsupported,

    /// <summary>The kernel refused the update; the frontend was rolled back to what it held.</summary>
    WriteFailed,
}

public static class RefusalReasons
{
    /// <summary>The snake_case form used as a Prometheus label and in status output.</summary>
    public static string Label(this RefusalReason reason) => reason switch
    {
        RefusalReason.ServiceMapFull => "service_map_full",
        RefusalReason.BackendMapFull => "backend_map_full",
        RefusalReason.NoServiceId => "no_service_id",
        RefusalReason.Unsupported => "unsupported",
        RefusalReason.WriteFailed => "write_failed",
        _ => reason.ToString(),
    };
}
