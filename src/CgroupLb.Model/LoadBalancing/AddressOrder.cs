using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// Total order and text form of address:port/protocol triples, shared by <see cref="Frontend"/> and
/// <see cref="Backend"/>, so plans and status output are deterministic and read the same everywhere.
/// </summary>
public static class AddressOrder
{
    public static int Compare(IPAddress a, IPAddress b)
    {
        // As ints: Enum.CompareTo(object) would box both sides on every compare of every sort.
        int c = ((int)a.AddressFamily).CompareTo((int)b.AddressFamily);
        if (c != 0) return c;
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            // The common case (sorting endpoints, frontends): one 32-bit compare in network order.
            Span<byte> x4 = stackalloc byte[4];
            Span<byte> y4 = stackalloc byte[4];
            a.TryWriteBytes(x4, out _);
            b.TryWriteBytes(y4, out _);
            return BinaryPrimitives.ReadUInt32BigEndian(x4).CompareTo(BinaryPrimitives.ReadUInt32BigEndian(y4));
        }
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out int nx);
        b.TryWriteBytes(y, out int ny);
        return x[..nx].SequenceCompareTo(y[..ny]);
    }

    public static int Compare(IPAddress a, ushort portA, L4Protocol protoA, IPAddress b, ushort portB, L4Protocol protoB)
    {
        int c = Compare(a, b);
        if (c != 0) return c;
        c = portA.CompareTo(portB);
        return c != 0 ? c : ((int)protoA).CompareTo((int)protoB);
    }

    /// <summary>"198.51.100.10:80" or "[2001:db8::1]:80".</summary>
    public static string Format(IPAddress address, ushort port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}
