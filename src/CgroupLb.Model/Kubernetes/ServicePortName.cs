using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Kubernetes;

/// <summary>
/// One port of one Service, the unit of load balancing (kube-proxy's ServicePortName). The protocol is part of the
/// identity because an EndpointSlice port only serves a service port with the same name and protocol.
/// </summary>
public readonly record struct ServicePortName(ServiceName Service, string Port, L4Protocol Protocol)
    : IComparable<ServicePortName>
{
    public int CompareTo(ServicePortName other)
    {
        int c = Service.CompareTo(other.Service);
        if (c != 0) return c;
        c = string.CompareOrdinal(Port, other.Port);
        return c != 0 ? c : ((int)Protocol).CompareTo((int)other.Protocol); // as ints: no boxing
    }

    /// <summary>"namespace/name:port", or "namespace/name" for the unnamed port; the load-balancer service name.</summary>
    public override string ToString() => Port.Length == 0 ? Service.ToString() : $"{Service}:{Port}";
}
