namespace CgroupLb.Datapath.Abi;

/// <summary>Map names from bpf/lib/lb_abi.h; they are also the pin file names under the bpffs directory.</summary>
internal static class MapNames
{
    public const string Services = "lb4_services";
    public const string Backends = "lb4_backends";
    public const string ReverseSockets = "lb4_reverse_sk";
    public const string ServiceStats = "lb_svc_stats";
    public const string ServiceNames = "lb_svc_names";
    public const string Refused = "lb4_refused";

    public static readonly IReadOnlyList<string> All = [Services, Backends, ReverseSockets, ServiceStats, ServiceNames, Refused];
}
