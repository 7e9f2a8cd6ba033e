namespace CgroupLb.Model.Services;

/// <summary>
/// How the EndpointSlice hints narrow the cluster-wide endpoints on this node (kube-proxy's topologyMode). Named after
/// the trafficDistribution values the EndpointSlice controller turns into hints; the proxy reads only the hints.
/// </summary>
public enum TopologyMode
{
    /// <summary>No filtering: hints are missing on some ready endpoint, or none names this node or its zone.</summary>
    None,

    /// <summary>Only endpoints whose <c>hints.forZones</c> name this node's zone.</summary>
    PreferSameZone,

    /// <summary>Only endpoints whose <c>hints.forNodes</c> name this node (Kubernetes 1.33+); wins over zone hints.</summary>
    PreferSameNode,
}
