namespace CgroupLb.Manifests;

/// <summary>The object kinds the load balancer consumes. The order is the order changes are delivered in.</summary>
public enum ManifestKind
{
    Service,
    EndpointSlice,
    Node,
}
