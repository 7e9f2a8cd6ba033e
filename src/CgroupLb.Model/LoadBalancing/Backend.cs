using System.Net;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>A pod endpoint a frontend may translate to.</summary>
public readonly record struct Backend(IPAddress Address, ushort Port, L4Protocol Protocol)
    : IComparable<Backend>
{
    public int CompareTo(Backend other) =>
        AddressOrder.Compare(Address, Port, Protocol, other.Address, other.Port, other.Protocol);

    public override string ToString() => AddressOrder.Format(Address, Port);
}
