using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;

namespace CgroupLb.Datapath.Tests;

/// <summary>lb6_fe_filter's bookkeeping and hash without a kernel (the kernel test checks the programs agree).</summary>
public class FrontendAddressFilter6Tests
{
    private static Lb6ServiceKey Master(string address, ushort port) => Lb6ServiceKey.Create(IPAddress.Parse(address), port, 6, 0);
    private static Lb6Address A(string address) => Lb6Address.Create(IPAddress.Parse(address));

    [Fact]
    public void ABitIsSetFromTheFirstMasterOrNodeAddressUntilTheLastIsRemoved()
    {
        var filter = new FrontendAddressFilter6();
        filter.Rebuild([]);

        var first = filter.AddMasters([Master("2001:db8:100::10", 80)]);
        Assert.Single(first);
        Assert.True(filter.MayBeFrontend(A("2001:db8:100::10")));
        // Another port, a slot, and a node address with the same address change no word.
        Assert.Empty(filter.AddMasters([Master("2001:db8:100::10", 443), Master("2001:db8:100::10", 80).WithSlot(1)]));
        Assert.Empty(filter.AddNodeAddresses([A("2001:db8:100::10")]));

        Assert.Empty(filter.RemoveMasters([Master("2001:db8:100::10", 80), Master("2001:db8:100::10", 443)]));
        Assert.True(filter.MayBeFrontend(A("2001:db8:100::10")));
        var last = filter.RemoveNodeAddresses([A("2001:db8:100::10")]);
        Assert.Equal(first[0].Key, Assert.Single(last).Key);
        Assert.False(filter.MayBeFrontend(A("2001:db8:100::10")));
    }

    [Fact]
    public void RebuildKeepsNodeAddressesAndForgetsMastersNotPassed()
    {
        var filter = new FrontendAddressFilter6();
        filter.AddNodeAddresses([A("2001:db8:203::1")]);
        filter.AddMasters([Master("2001:db8:100::10", 80)]);
        var words = filter.Rebuild([Master("::", 30080)]); // a NodePort master: the wildcard address

        Assert.Equal((int)FrontendAddressFilter.Words, words.Length);
        Assert.True(filter.MayBeFrontend(A("2001:db8:203::1")));
        Assert.True(filter.MayBeFrontend(A("::")));
        Assert.False(filter.MayBeFrontend(A("2001:db8:100::10")));
    }

    /// <summary>
    /// Service CIDRs hand out addresses that differ only in their last bytes, the high bits of the last word read
    /// natively: the hash must spread those over the whole bitmap (a bare multiplication would crowd them into 256
    /// bit positions per /120) and leave other addresses of the same prefix mostly unfiltered.
    /// </summary>
    [Theory]
    [InlineData("fd00:10:96::")]
    [InlineData("2001:db8:100::")]
    public void TenThousandFrontendsOfOnePrefixLeaveMostOtherAddressesUnfiltered(string prefix)
    {
        var filter = new FrontendAddressFilter6();
        var frontends = Enumerable.Range(1, 10_000).Select(i => Master($"{prefix}{i:x}", 80)).ToList();
        var words = filter.Rebuild(frontends);

        Assert.InRange(words.Sum(w => System.Numerics.BitOperations.PopCount(w)), 9_900, 10_000); // few collisions
        int falsePositives = Enumerable.Range(20_001, 10_000).Count(i => filter.MayBeFrontend(A($"{prefix}{i:x}")));
        Assert.InRange(falsePositives, 0, 300); // 2^20 bits: about 1% expected
        Assert.All(frontends, f => Assert.True(filter.MayBeFrontend(f.Address)));
    }
}
