using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using Xunit;

namespace CgroupLb.Datapath.Tests;

public sealed class LbMapPreallocationTests
{
    /// <summary>
    /// What `bpftool map show` reported as bytes_memlock for the maps created preallocated at the default sizes
    /// on Linux 6.18 (whose accounting walks the real allocation): the estimate the agent logs must be that figure.
    /// </summary>
    [Theory]
    [InlineData("lb4_services_v2", 27264064)]
    [InlineData("lb6_services", 33555568)]
    [InlineData("lb_svc_names", 21497344)]
    public void EstimateAtTheDefaultSizesMatchesWhatTheKernelAccounted(string map, long measured)
    {
        ulong estimate = map switch
        {
            "lb4_services_v2" => LbMapPreallocation.BytesOf(Size<Lb4ServiceKey>(), Size<LbServiceValue>(), DatapathOptions.DefaultServiceMapMax),
            "lb6_services" => LbMapPreallocation.BytesOf(Size<Lb6ServiceKey>(), Size<Lb6ServiceValue>(), DatapathOptions.DefaultServiceMapMax),
            "lb_svc_names" => LbMapPreallocation.BytesOf(sizeof(uint), Size<LbServiceName>(), CgroupLb.Datapath.Writing.LbLimits.DefaultServiceIdLimit),
            _ => throw new ArgumentOutOfRangeException(nameof(map)),
        };
        Assert.InRange((double)estimate / measured, 0.99, 1.01);
    }

    [Fact]
    public void BucketsFollowTheEntryCountRoundedUpToAPowerOfTwo()
    {
        // 12-byte key and 20-byte value round to 16 and 24: 88 bytes per element; 1000 entries have 1024 buckets.
        Assert.Equal(1000UL * 88 + 1024 * 16, LbMapPreallocation.BytesOf(12, 20, 1000));
        Assert.Equal("83.9 MB", LbMapPreallocation.Megabytes(88_000_000));
    }

    private static uint Size<T>() where T : struct => (uint)Marshal.SizeOf<T>();
}
