using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Datapath.Status;

/// <summary>
/// `cgroup-lb status --service NAMESPACE/NAME`: the frontends and refusals whose owning Service is exactly that one
/// (every port and every kind of address). The owner is the "namespace/name" part of the lb_svc_names entry
/// ("namespace/name:port"); maps usage and warnings describe the whole node and are kept.
/// </summary>
public static class StatusFilter
{
    /// <summary>Parses the flag's value: "namespace/name", nothing more; false with a reason otherwise.</summary>
    public static bool TryParseService(string text, out ServiceName service, out string? error)
    {
        error = null;
        if (text.Contains(':') || text.Count(c => c == '/') != 1 || !ServiceName.TryParse(text, out service))
        {
            service = default;
            error = $"'{text}' is not NAMESPACE/NAME (e.g. default/web; a Service's ports are all shown)";
            return false;
        }
        return true;
    }

    public static DatapathStatus ForService(DatapathStatus status, ServiceName service) =>
        status with
        {
            Frontends = [.. status.Frontends.Where(f => f.Service == service)],
            Refused = [.. status.Refused.Where(r => r.Service == service)],
        };
}
