using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.NodeAddresses;
using CgroupLb.Datapath.Writing;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

/// <summary>NodePort's node-address set without a kernel: the --nodeport-addresses filter, the desired set and its diff, the sync's writes.</summary>
public class NodeAddressTests
{
    private static IPAddress Ip(string text) => IPAddress.Parse(text);
    private static uint Be(string address) => NetworkOrder.ToBe32(IPAddress.Parse(address));

    [Theory]
    [InlineData("", "198.51.100.7", true)]
    [InlineData("198.51.100.0/24", "198.51.100.7", true)]
    [InlineData("198.51.100.0/24", "203.0.113.7", false)]
    [InlineData("198.51.100.9/24", "198.51.100.7", true)] // host bits allowed, as kube-proxy's sloppy parsing
    [InlineData("198.51.100.0/25", "198.51.100.200", false)]
    [InlineData("198.51.100.128/25", "198.51.100.200", true)]
    [InlineData("203.0.113.0/24, 2001:db8::/32", "2001:db8:1::5", true)]
    [InlineData("203.0.113.0/24", "2001:db8:1::5", false)]
    [InlineData("0.0.0.0/0", "192.0.2.1", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void CidrsAdmitTheAddressesInsideThem(string flag, string address, bool admitted) =>
        Assert.Equal(admitted, NodePortAddresses.Parse(flag).ContainsAddress(Ip(address)));

    [Theory]
    [InlineData("198.51.100.0")]
    [InlineData("198.51.100.0/33")]
    [InlineData("2001:db8::/129")]
    [InlineData("primary,198.51.100.0/24")]
    [InlineData("nodes")]
    public void ABadFlagValueIsAnErrorNamingIt(string flag)
    {
        var e = Assert.Throws<FormatException>(() => NodePortAddresses.Parse(flag));
        Assert.Contains("--nodeport-addresses", e.Message);
    }

    [Fact]
    public void TheDesiredSetHasLocalAndClusterAddressesButNoLoopbackLinkLocalOrUnspecified()
    {
        var desired = NodeAddressSet.Desired(
            local: [Ip("198.51.100.1"), Ip("127.0.0.1"), Ip("::1"), Ip("fe80::1"), Ip("2001:db8::1"), Ip("0.0.0.0"), Ip("192.0.2.10")],
            cluster: [Ip("192.0.2.10"), Ip("192.0.2.11"), Ip("fe80::2")],
            NodePortAddresses.All);

        Assert.Equal(new Dictionary<IPAddress, LbNodeAddrFlags>
        {
            [Ip("198.51.100.1")] = LbNodeAddrFlags.Local,
            [Ip("2001:db8::1")] = LbNodeAddrFlags.Local,
            [Ip("192.0.2.10")] = LbNodeAddrFlags.Local | LbNodeAddrFlags.Remote,
            [Ip("192.0.2.11")] = LbNodeAddrFlags.Remote,
        }, desired);
    }

    [Fact]
    public void PrimaryKeepsOnlyTheNodeObjectsAddresses()
    {
        var desired = NodeAddressSet.Desired([Ip("198.51.100.1"), Ip("192.0.2.10")], [Ip("192.0.2.10"), Ip("192.0.2.11")],
            NodePortAddresses.Parse("primary"));
        Assert.Equal([Ip("192.0.2.10"), Ip("192.0.2.11")], desired.Keys.OrderBy(a => a.ToString()));
    }

    [Fact]
    public void CidrsFilterLocalAndClusterAddressesAlike()
    {
        var desired = NodeAddressSet.Desired([Ip("198.51.100.1"), Ip("192.0.2.10")], [Ip("192.0.2.11"), Ip("203.0.113.5")],
            NodePortAddresses.Parse("192.0.2.0/24"));
        Assert.Equal([Ip("192.0.2.10"), Ip("192.0.2.11")], desired.Keys.OrderBy(a => a.ToString()));
    }

    [Fact]
    public void TheDiffWritesNewAndChangedEntriesAndDeletesStaleOnes()
    {
        var current = new Dictionary<IPAddress, LbNodeAddrFlags> { [Ip("192.0.2.1")] = LbNodeAddrFlags.Local, [Ip("192.0.2.2")] = LbNodeAddrFlags.Local, [Ip("192.0.2.3")] = LbNodeAddrFlags.Remote };
        var desired = new Dictionary<IPAddress, LbNodeAddrFlags> { [Ip("192.0.2.1")] = LbNodeAddrFlags.Local, [Ip("192.0.2.2")] = LbNodeAddrFlags.Local | LbNodeAddrFlags.Remote, [Ip("192.0.2.4")] = LbNodeAddrFlags.Remote };
        var (upserts, deletes) = NodeAddressSet.Diff(current, desired);
        Assert.Equal([Ip("192.0.2.2"), Ip("192.0.2.4")], upserts.Select(kv => kv.Key));
        Assert.Equal([Ip("192.0.2.3")], deletes);
    }

    [Fact]
    public void TheSyncAddsBeforeItRemovesAndStartsFromWhatTheKernelHolds()
    {
        var maps = new FakeNodeAddressMaps();
        maps.Entries[Ip("203.0.113.9")] = LbNodeAddrFlags.Local; // left by a previous agent
        var sync = new NodeAddressSync(maps, NodePortAddresses.All, NullLogger.Instance);

        Assert.True(sync.SetLocalAddresses([Ip("198.51.100.1"), Ip("127.0.0.1")]));
        Assert.Equal(["update 198.51.100.1", "delete 203.0.113.9"], maps.Log);
        Assert.True(sync.SetClusterNodeAddresses([Ip("198.51.100.1"), Ip("2001:db8::7")]));
        Assert.Equal(LbNodeAddrFlags.Local | LbNodeAddrFlags.Remote, maps.Entries[Ip("198.51.100.1")]);
        Assert.Equal(LbNodeAddrFlags.Remote, maps.Entries[Ip("2001:db8::7")]);

        maps.Log.Clear();
        Assert.True(sync.SetLocalAddresses([Ip("198.51.100.1")])); // loopback gone: nothing the maps hold changes
        Assert.Empty(maps.Log);
    }

    [Fact]
    public void AFailedWriteKeepsTheMapsAndTheNextChangeRepairs()
    {
        var maps = new FakeNodeAddressMaps();
        var sync = new NodeAddressSync(maps, NodePortAddresses.All, NullLogger.Instance);
        Assert.True(sync.SetLocalAddresses([Ip("198.51.100.1")]));

        maps.Fail = true;
        Assert.False(sync.SetLocalAddresses([Ip("198.51.100.1"), Ip("198.51.100.2")]));
        Assert.Equal([Ip("198.51.100.1")], maps.Entries.Keys);

        maps.Fail = false;
        Assert.True(sync.SetClusterNodeAddresses([]));
        Assert.Equal([Ip("198.51.100.1"), Ip("198.51.100.2")], maps.Entries.Keys.OrderBy(a => a.ToString()));
    }

    [Fact]
    public void ANodeAddressBitOutlivesAFrontendOfTheSameAddressAndViceVersa()
    {
        var filter = new FrontendAddressFilter();
        filter.Rebuild([]);
        var master = Lb4ServiceKey.Create(Ip("198.51.100.1"), 80, 6, 0);

        Assert.Single(filter.AddNodeAddresses([Be("198.51.100.1")]));
        Assert.Empty(filter.AddMasters([master]));
        Assert.Empty(filter.RemoveNodeAddresses([Be("198.51.100.1")]));
        Assert.True(filter.MayBeFrontend(Be("198.51.100.1")));
        Assert.Single(filter.RemoveMasters([master]));
        Assert.False(filter.MayBeFrontend(Be("198.51.100.1")));

        // A rebuild from the frontend map alone keeps the node addresses' bits.
        filter.AddNodeAddresses([Be("192.0.2.10")]);
        var words = filter.Rebuild([]);
        uint bit = FrontendAddressFilter.BitOf(Be("192.0.2.10"));
        Assert.NotEqual(0UL, words[bit >> 6] & (1UL << (int)(bit & 63)));
    }

    private sealed class FakeNodeAddressMaps : INodeAddressMaps
    {
        public Dictionary<IPAddress, LbNodeAddrFlags> Entries { get; } = [];
        public List<string> Log { get; } = [];
        public bool Fail { get; set; }

        public IReadOnlyDictionary<IPAddress, LbNodeAddrFlags> ReadNodeAddresses() => new Dictionary<IPAddress, LbNodeAddrFlags>(Entries);

        public IReadOnlyList<Status.MapUsage> NodeAddressUsage() => [new(MapNames.NodeAddresses, Entries.Count, 16384)];

        public void UpdateNodeAddresses(IReadOnlyList<KeyValuePair<IPAddress, LbNodeAddrFlags>> addresses)
        {
            if (Fail)
                throw new BpfException("bpf_map_update_elem", (int)Errno.ENOMEM, "map", MapNames.NodeAddresses);
            foreach (var (address, flags) in addresses)
            {
                Entries[address] = flags;
                Log.Add($"update {address}");
            }
        }

        public void DeleteNodeAddresses(IReadOnlyList<IPAddress> addresses)
        {
            foreach (var address in addresses)
            {
                Entries.Remove(address);
                Log.Add($"delete {address}");
            }
        }
    }
}
