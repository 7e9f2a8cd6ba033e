using System.Net;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>Total order on addresses (family, then bytes) so plans and status output are deterministic.</summary>
public static class AddressOrder
{
    public static int Compare(IPAddress a, IPAddress b)
    {
        int c = a.AddressFamily.CompareTo(b.AddressFamily);
        if (c != 0) return c;
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out int nx);
        b.TryWriteBytes(y, out int ny);
        return x[..nx].SequenceCompareTo(y[..ny]);
    }
}
