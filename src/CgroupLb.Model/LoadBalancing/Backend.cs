using System.Net;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>A pod endpoint a frontend may translate to.</summary>
public readonly record struct Backend(IPAddress Address, ushort Port, L4Protocol Protocol)
    : IComparable<Backend>
{
    public int CompareTo(Backend other)
    {
        int c = AddressOrder.Compare(Address, other.Address);
        if (c != 0) return c;
        c = Port.CompareTo(other.Port);
        return c != 0 ? c : Protocol.CompareTo(other.Protocol);
    }

    public override string ToString() =>
        $"{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}";
}
