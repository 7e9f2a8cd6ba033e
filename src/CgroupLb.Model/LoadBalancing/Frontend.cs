using System.Net;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// An address a client connects to (a ClusterIP today; NodePort, external and load-balancer
/// addresses later). It is the key of the service map and the unit the planner diffs.
/// </summary>
public readonly record struct Frontend(IPAddress Address, ushort Port, L4Protocol Protocol)
    : IComparable<Frontend>
{
    public int CompareTo(Frontend other) =>
        AddressOrder.Compare(Address, Port, Protocol, other.Address, other.Port, other.Protocol);

    public override string ToString() =>
        $"{AddressOrder.Format(Address, Port)}/{Protocol.ToString().ToUpperInvariant()}";
}
