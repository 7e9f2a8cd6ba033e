using System.Collections.Immutable;

namespace CgroupLb.Model.Services;

/// <summary>
/// The single place that decides which endpoints receive traffic (kube-proxy's CategorizeEndpoints): ready
/// endpoints; only when none is ready, endpoints that still serve while terminating, so connections keep working
/// through a rolling update that replaced every pod at once.
/// </summary>
public static class EndpointCategorizer
{
    public static CategorizedEndpoints Categorize(IReadOnlyList<EndpointInfo> endpoints, string nodeName)
    {
        var cluster = Usable(endpoints, static _ => true);
        var local = Usable(endpoints, e => e.IsLocalTo(nodeName));
        return new CategorizedEndpoints(cluster, local, endpoints.Count > 0);
    }

    /// <summary>The endpoints a connect to the service's ClusterIP may reach under its internal traffic policy.</summary>
    public static ImmutableArray<EndpointInfo> ForClusterIp(IReadOnlyList<EndpointInfo> endpoints, ServicePortInfo port, string nodeName)
    {
        CategorizedEndpoints categorized = Categorize(endpoints, nodeName);
        return port.InternalTrafficPolicy == TrafficPolicy.Local ? categorized.Local : categorized.Cluster;
    }

    /// <summary>
    /// Whether one endpoint in scope receives traffic, given whether any endpoint in scope is ready: the rule itself,
    /// shared with the translator's allocation-free path.
    /// </summary>
    internal static bool Receives(bool ready, bool serving, bool terminating, bool anyReadyInScope) =>
        anyReadyInScope ? ready : serving && terminating;

    private static ImmutableArray<EndpointInfo> Usable(IReadOnlyList<EndpointInfo> endpoints, Func<EndpointInfo, bool> inScope)
    {
        bool anyReady = endpoints.Any(e => inScope(e) && e.Ready);
        return endpoints.Where(e => inScope(e) && Receives(e.Ready, e.Serving, e.Terminating, anyReady)).ToImmutableArray();
    }
}
