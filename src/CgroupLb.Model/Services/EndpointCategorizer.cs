using System.Collections.Immutable;

namespace CgroupLb.Model.Services;

/// <summary>
/// The single place that decides which endpoints receive traffic (kube-proxy's CategorizeEndpoints in
/// pkg/proxy/topology.go), for clients on this node:
/// <list type="bullet">
/// <item>The cluster-wide set (ClusterIP under internalTrafficPolicy Cluster; NodePort, external and load-balancer
/// addresses whatever their externalTrafficPolicy, because kube-proxy short-circuits pod- and host-originated
/// traffic to them through the cluster-wide endpoints): ready endpoints, narrowed by the EndpointSlice hints
/// (<see cref="TopologyMode"/>); only when none is ready anywhere, the serving-and-terminating ones.</item>
/// <item>The node-local set (ClusterIP under internalTrafficPolicy Local): ready endpoints on this node, else its
/// serving-and-terminating ones. Hints never apply to it.</item>
/// </list>
/// Topology reads hints only, never endpoint.zone, the topology-mode annotation or trafficDistribution: the
/// EndpointSlice controller has turned those into hints already. The hints are trusted only when every ready endpoint
/// has one and one names this node (node hints, which win) or this node's zone; a topology mode therefore always
/// keeps a ready endpoint, and the terminating fallback (which needs no ready endpoint at all) never meets one.
/// </summary>
public static class EndpointCategorizer
{
    /// <param name="zone">This node's topology.kubernetes.io/zone label, or null.</param>
    public static CategorizedEndpoints Categorize(IReadOnlyList<EndpointInfo> endpoints, string nodeName, string? zone = null)
    {
        var scan = new TopologyHintScan(nodeName, zone);
        foreach (EndpointInfo e in endpoints) scan.Add(e.Ready, e.NodeHints, e.ZoneHints);
        TopologyMode mode = scan.Mode;
        var cluster = Usable(endpoints, e => TopologyHintScan.Available(mode, e.NodeHints, e.ZoneHints, nodeName, zone));
        var local = Usable(endpoints, e => e.IsLocalTo(nodeName));
        return new CategorizedEndpoints(cluster, local, endpoints.Count > 0) { Topology = mode };
    }

    /// <summary>The endpoints a connect to the service's ClusterIP may reach under its internal traffic policy.</summary>
    public static ImmutableArray<EndpointInfo> ForClusterIp(IReadOnlyList<EndpointInfo> endpoints, ServicePortInfo port, string nodeName, string? zone = null)
    {
        CategorizedEndpoints categorized = Categorize(endpoints, nodeName, zone);
        return port.InternalTrafficPolicy == TrafficPolicy.Local ? categorized.Local : categorized.Cluster;
    }

    /// <summary>
    /// The endpoints a connect from this node to the port's NodePort, external IPs or load-balancer IPs may reach: the
    /// cluster-wide set whatever the external traffic policy (it filters only traffic that arrives from outside).
    /// </summary>
    public static ImmutableArray<EndpointInfo> ForExternal(IReadOnlyList<EndpointInfo> endpoints, string nodeName, string? zone = null) =>
        Categorize(endpoints, nodeName, zone).Cluster;

    /// <summary>
    /// Whether one endpoint in scope receives traffic, given whether any endpoint in scope is ready: the rule itself,
    /// shared with the translator's allocation-free path. For the cluster-wide set "in scope" means available under
    /// the topology mode; a mode is chosen only when it keeps a ready endpoint, so the fallback is topology-free.
    /// </summary>
    internal static bool Receives(bool ready, bool serving, bool terminating, bool anyReadyInScope) =>
        anyReadyInScope ? ready : serving && terminating;

    private static ImmutableArray<EndpointInfo> Usable(IReadOnlyList<EndpointInfo> endpoints, Func<EndpointInfo, bool> inScope)
    {
        bool anyReady = endpoints.Any(e => inScope(e) && e.Ready);
        return endpoints.Where(e => inScope(e) && Receives(e.Ready, e.Serving, e.Terminating, anyReady)).ToImmutableArray();
    }
}
