using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Status;

/// <summary>
/// Which kind of Service address a frontend is, from its master entry's flags (<c>enum lb_service_flags</c>). A
/// NodePort frontend is the wildcard address (0.0.0.0 or ::) with the nodePort: it matches every node address.
/// </summary>
public enum FrontendKind
{
    /// <summary>No kind flag (an entry written by a build that set none).</summary>
    Unknown,
    ClusterIp,
    NodePort,
    ExternalIp,
    LoadBalancer,
}

public static class FrontendKinds
{
    /// <summary>The kind a master entry's flags name; NodePort first, as its wildcard address says nothing else.</summary>
    public static FrontendKind Of(ServiceFlags flags) =>
        (flags & ServiceFlags.NodePort) != 0 ? FrontendKind.NodePort
        : (flags & ServiceFlags.LoadBalancer) != 0 ? FrontendKind.LoadBalancer
        : (flags & ServiceFlags.ExternalIp) != 0 ? FrontendKind.ExternalIp
        : (flags & ServiceFlags.ClusterIp) != 0 ? FrontendKind.ClusterIp
        : FrontendKind.Unknown;

    /// <summary>The names Kubernetes and Cilium print (spec.type values, `cilium service list`'s "ExternalIPs").</summary>
    public static string Label(this FrontendKind kind) => kind switch
    {
        FrontendKind.ClusterIp => "ClusterIP",
        FrontendKind.NodePort => "NodePort",
        FrontendKind.ExternalIp => "ExternalIP",
        FrontendKind.LoadBalancer => "LoadBalancer",
        _ => "-",
    };

    /// <summary>The flags that are neither a kind nor affinity, by name: LocalOnly (internalTrafficPolicy: Local), HostOnly.</summary>
    public static IReadOnlyList<string> PolicyFlags(ServiceFlags flags)
    {
        var names = new List<string>(2);
        if ((flags & ServiceFlags.LocalOnly) != 0) names.Add("LocalOnly");
        if ((flags & ServiceFlags.HostOnly) != 0) names.Add("HostOnly");
        return names;
    }

    /// <summary>sessionAffinity as Kubernetes spells it: ClientIP or None.</summary>
    public static string Affinity(ServiceFlags flags) => (flags & ServiceFlags.Affinity) != 0 ? "ClientIP" : "None";
}
