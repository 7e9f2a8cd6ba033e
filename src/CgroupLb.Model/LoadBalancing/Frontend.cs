using System.Net;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// An address a client connects to (a ClusterIP today; NodePort, external and load-balancer
/// addresses later). It is the key of the service map and the unit the planner diffs.
/// </summary>
public readonly record struct Frontend(IPAddress Address, ushort Port, L4Protocol Protocol)
    : IComparable<Frontend>
{
    public int CompareTo(Frontend other)
    {
        int c = AddressOrder.Compare(Address, other.Address);
        if (c != 0) return c;
        c = Port.CompareTo(other.Port);
        return c != 0 ? c : Protocol.CompareTo(other.Protocol);
    }

    public override string ToString() =>
        $"{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}/{Protocol.ToString().ToUpperInvariant()}";
}
