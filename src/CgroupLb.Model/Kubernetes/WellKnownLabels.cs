namespace CgroupLb.Model.Kubernetes;

/// <summary>Labels and enum strings of the Kubernetes API that change how a service is proxied.</summary>
public static class WellKnownLabels
{
    /// <summary>On an EndpointSlice: the Service it belongs to.</summary>
    public const string ServiceName = "kubernetes.io/service-name";

    /// <summary>On a Service: another proxy implementation owns it, so we must leave it alone.</summary>
    public const string ServiceProxyName = "service.kubernetes.io/service-proxy-name";

    /// <summary>On a Service: treat as headless whatever its clusterIP says.</summary>
    public const string Headless = "service.kubernetes.io/headless";

    /// <summary>On a Node: the zone used by topology-aware routing.</summary>
    public const string TopologyZone = "topology.kubernetes.io/zone";

    /// <summary>Node status.addresses types that reach the node from inside the cluster (NodePort).</summary>
    public const string NodeInternalIP = "InternalIP";

    /// <summary>See <see cref="NodeInternalIP"/>.</summary>
    public const string NodeExternalIP = "ExternalIP";

    /// <summary>status.loadBalancer.ingress[].ipMode: the load balancer delivers the traffic itself, no node short-circuits it.</summary>
    public const string IpModeProxy = "Proxy";

    /// <summary>status.loadBalancer.ingress[].ipMode: traffic to the IP is delivered as if to the node (unset means this).</summary>
    public const string IpModeVip = "VIP";
}
