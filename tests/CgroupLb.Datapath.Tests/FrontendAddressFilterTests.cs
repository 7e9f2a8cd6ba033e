using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;

namespace CgroupLb.Datapath.Tests;

public class FrontendAddressFilterTests
{
    private static Lb4ServiceKey Master(string address, ushort port) => Lb4ServiceKey.Create(IPAddress.Parse(address), port, 6, 0);
    private static uint Be(string address) => NetworkOrder.ToBe32(IPAddress.Parse(address));

    [Fact]
    public void ABitIsSetFromTheFirstMasterOfAnAddressUntilItsLastIsRemoved()
    {
        var filter = new FrontendAddressFilter();
        filter.Rebuild([]);

        var first = filter.AddMasters([Master("198.51.100.10", 80)]);
        Assert.Single(first);
        Assert.True(filter.MayBeFrontend(Be("198.51.100.10")));

        // Another port of the same address, and slots, change no word.
        Assert.Empty(filter.AddMasters([Master("198.51.100.10", 443), Master("198.51.100.10", 80).WithSlot(1)]));
        Assert.Empty(filter.RemoveMasters([Master("198.51.100.10", 80)]));
        Assert.True(filter.MayBeFrontend(Be("198.51.100.10")));

        var last = filter.RemoveMasters([Master("198.51.100.10", 443)]);
        Assert.Equal(first[0].Key, Assert.Single(last).Key);
        Assert.Equal(0UL, last[0].Value & first[0].Value);
        Assert.False(filter.MayBeFrontend(Be("198.51.100.10")));
    }

    [Fact]
    public void AddressesSharingABitKeepItUntilBothAreGone()
    {
        var filter = new FrontendAddressFilter();
        filter.Rebuild([]);
        // Addresses of one /16 never share a bit (the multiplier is odd), so build a colliding pair: a' = a + M^-1
        // (mod 2^32) gives a'*M = a*M + 1, the same top 20 bits unless the +1 carries into them. Pure arithmetic:
        // these addresses are never sent anywhere.
        string first = "198.51.100.10";
        uint inverse = FrontendAddressFilter.HashMultiplier;
        for (int i = 0; i < 5; i++)
            inverse = unchecked(inverse * (2 - FrontendAddressFilter.HashMultiplier * inverse)); // Newton: M * inverse == 1
        uint a = Be(first);
        uint twin = unchecked(a + inverse);
        if (FrontendAddressFilter.BitOf(twin) != FrontendAddressFilter.BitOf(a))
            twin = unchecked(a - inverse);
        Assert.Equal(FrontendAddressFilter.BitOf(a), FrontendAddressFilter.BitOf(twin));
        string other = NetworkOrder.FromBe32(twin).ToString();

        filter.AddMasters([Master(first, 80), Master(other, 80)]);
        filter.RemoveMasters([Master(first, 80)]);
        Assert.True(filter.MayBeFrontend(Be(first)));
        filter.RemoveMasters([Master(other, 80)]);
        Assert.False(filter.MayBeFrontend(Be(other)));
    }

    [Fact]
    public void RebuildReturnsEveryWordSoStaleBitsInTheMapAreOverwritten()
    {
        var filter = new FrontendAddressFilter();
        filter.AddMasters([Master("198.51.100.10", 80)]);
        var words = filter.Rebuild([Master("198.51.100.20", 53)]);

        Assert.Equal((int)FrontendAddressFilter.Words, words.Length);
        Assert.Equal(1, words.Sum(w => System.Numerics.BitOperations.PopCount(w)));
        Assert.True(filter.MayBeFrontend(Be("198.51.100.20")));
        Assert.False(filter.MayBeFrontend(Be("198.51.100.10")));
    }

    [Fact]
    public void TenThousandFrontendsLeaveMostOtherAddressesUnfiltered()
    {
        var filter = new FrontendAddressFilter();
        filter.Rebuild(Enumerable.Range(0, 10_000).Select(i => Master($"198.18.{i >> 8}.{i & 255}", 80)));
        int falsePositives = Enumerable.Range(0, 10_000).Count(i => filter.MayBeFrontend(Be($"198.19.{i >> 8}.{i & 255}")));
        Assert.InRange(falsePositives, 0, 300); // 2^20 bits: about 1% expected
    }

    [Fact]
    public void EachChangedWordIsReportedOnceInAscendingOrderWithItsFinalValue()
    {
        var filter = new FrontendAddressFilter();
        filter.Rebuild([]);
        var masters = Enumerable.Range(0, 2000).Select(i => Master($"198.18.{i >> 8}.{i & 255}", 80)).ToArray();

        var added = filter.AddMasters(masters);

        Assert.Equal(added.Select(w => w.Key).Distinct().Order(), added.Select(w => w.Key));
        var expected = filter.Rebuild(masters);
        Assert.All(added, w => Assert.Equal(expected[w.Key], w.Value));
        Assert.Equal(expected.Count(w => w != 0), added.Count);

        // A later call reports only its own words, not those of the calls before it.
        var removed = filter.RemoveMasters(masters.AsSpan(0, 1));
        Assert.Equal(FrontendAddressFilter.BitOf(masters[0].AddressBe) >> 6, Assert.Single(removed).Key);
    }
}
