using System.Net;

namespace CgroupLb.Benchmarks.Workload;

/// <summary>
/// Addresses for synthetic clusters, all inside 198.18.0.0/15 (the benchmarking range of RFC 2544) so nothing a
/// benchmark writes could ever match real traffic. The first /18 holds ClusterIPs, the rest pod IPs.
/// </summary>
internal static class BenchAddresses
{
    public const int MaxClusterIps = 1 << 14;
    public const int MaxPods = (1 << 17) - MaxClusterIps;

    public static IPAddress ClusterIp(int index)
    {
        if ((uint)index >= MaxClusterIps)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"at most {MaxClusterIps} ClusterIPs fit in 198.18.0.0/18");
        return Offset(index);
    }

    public static IPAddress Pod(int index)
    {
        if ((uint)index >= MaxPods)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"at most {MaxPods} pod IPs fit in the rest of 198.18.0.0/15");
        return Offset(MaxClusterIps + index);
    }

    private static IPAddress Offset(int offset) =>
        new([198, (byte)(18 + (offset >> 16)), (byte)(offset >> 8), (byte)offset]);
}
