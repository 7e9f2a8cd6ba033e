using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using k8s.Models;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// The tracker keeps every Node: this node's zone (topology hints) and every node's InternalIP/ExternalIP
/// (<see cref="ClusterState.NodeAddresses"/>, for NodePort). A Node event asks for a sync only when this node's zone
/// or the address set changed; heartbeat-like updates of any node cost nothing.
/// </summary>
public class NodeTrackingTests
{
    private const string Source = "test";

    private static ClusterChangeTracker NewTracker() => new("node-a", [Source]);

    private static V1Node NodeWith(string name, string? zone, params (string Type, string Address)[] addresses)
    {
        var node = Node(name, zone);
        node.Status = new V1NodeStatus { Addresses = addresses.Select(a => new V1NodeAddress { Address = a.Address, Type = a.Type }).ToList() };
        return node;
    }

    private static List<string> Addresses(ClusterChanges changes) => changes.State.NodeAddresses.Select(a => a.ToString()).ToList();

    public static TheoryData<string, V1Node[], string[]> AddressSetCases => new()
    {
        { "no node", [], [] },
        {
            "this node and others, internal and external, sorted with IPv4 first",
            [
                NodeWith("node-b", null, ("InternalIP", "198.51.100.2"), ("ExternalIP", "203.0.113.2"), ("InternalIP", "2001:db8::2")),
                NodeWith("node-a", "zone-1", ("InternalIP", "198.51.100.1"), ("Hostname", "node-a")),
            ],
            ["198.51.100.1", "198.51.100.2", "203.0.113.2", "2001:db8::2"]
        },
        {
            "an address two nodes report is listed once",
            [NodeWith("node-b", null, ("InternalIP", "198.51.100.9")), NodeWith("node-c", null, ("ExternalIP", "198.51.100.9"))],
            ["198.51.100.9"]
        },
        { "a node without status", [Node("node-b")], [] },
    };

    [Theory]
    [MemberData(nameof(AddressSetCases))]
    public void NodeAddressesAreEveryNodesInternalAndExternalIps(string why, V1Node[] nodes, string[] expected)
    {
        var tracker = NewTracker();
        foreach (var node in nodes) tracker.OnNode(null, node);

        ClusterChanges changes = tracker.CheckoutChanges();

        Assert.True(expected.SequenceEqual(Addresses(changes)), $"{why}: got {string.Join(", ", Addresses(changes))}");
        Assert.Equal(expected.Length > 0, changes.NodeAddressesChanged);
    }

    [Fact]
    public void AnotherNodesUpdateThatKeepsItsAddressesChangesNothing()
    {
        var tracker = NewTracker();
        var before = NodeWith("node-b", "zone-2", ("InternalIP", "198.51.100.2"));
        tracker.OnNode(null, before);
        tracker.CheckoutChanges();

        var after = NodeWith("node-b", "zone-3", ("InternalIP", "198.51.100.2"), ("Hostname", "node-b"));
        after.Metadata.ResourceVersion = "2";
        tracker.OnNode(before, after);

        Assert.False(tracker.HasPendingChanges);
        Assert.True(tracker.CheckoutChanges().IsEmpty);
    }

    [Fact]
    public void AddressChangesAreReportedWithoutANodeChangeAndRemovalsCount()
    {
        var tracker = NewTracker();
        var b1 = NodeWith("node-b", null, ("InternalIP", "198.51.100.2"));
        var c1 = NodeWith("node-c", null, ("InternalIP", "198.51.100.3"), ("InternalIP", "198.51.100.2"));
        tracker.OnNode(null, b1);
        tracker.OnNode(null, c1);
        tracker.CheckoutChanges();

        // node-b leaves, but node-c still reports .2: the set is unchanged.
        tracker.OnNode(b1, null);
        ClusterChanges unchanged = tracker.CheckoutChanges();
        Assert.False(unchanged.NodeAddressesChanged);
        Assert.Equal(["198.51.100.2", "198.51.100.3"], Addresses(unchanged));

        var c2 = NodeWith("node-c", null, ("InternalIP", "198.51.100.3"));
        tracker.OnNode(c1, c2);
        Assert.True(tracker.HasPendingChanges);
        ClusterChanges changed = tracker.CheckoutChanges();
        Assert.True(changed.NodeAddressesChanged);
        Assert.False(changed.NodeChanged);
        Assert.False(changed.IsEmpty);
        Assert.Equal(["198.51.100.3"], Addresses(changed));
    }

    [Fact]
    public void AnAddressThatLeavesAndComesBackBeforeTheCheckoutIsNoChange()
    {
        var tracker = NewTracker();
        var b1 = NodeWith("node-b", null, ("InternalIP", "198.51.100.2"));
        tracker.OnNode(null, b1);
        tracker.CheckoutChanges();

        tracker.OnNode(b1, null);
        tracker.OnNode(null, b1);

        ClusterChanges changes = tracker.CheckoutChanges();
        Assert.False(changes.NodeAddressesChanged);
        Assert.True(changes.IsEmpty);
    }

    [Fact]
    public void ThisNodesZoneIsTheOnlyNodeChangeAndOtherNodesZonesAreIgnored()
    {
        var tracker = NewTracker();
        tracker.OnNode(null, NodeWith("node-b", "zone-9"));
        Assert.False(tracker.HasPendingChanges);

        tracker.OnNode(null, NodeWith("node-a", "zone-1", ("InternalIP", "198.51.100.1")));
        ClusterChanges first = tracker.CheckoutChanges();
        Assert.True(first.NodeChanged);
        Assert.True(first.NodeAddressesChanged);
        Assert.Equal(new NodeInfo("node-a", "zone-1"), first.State.LocalNode);

        tracker.OnNode(NodeWith("node-b", "zone-9"), NodeWith("node-b", "zone-8"));
        Assert.False(tracker.HasPendingChanges);

        tracker.OnNode(NodeWith("node-a", "zone-1", ("InternalIP", "198.51.100.1")), null);
        ClusterChanges gone = tracker.CheckoutChanges();
        Assert.True(gone.NodeChanged);
        Assert.Null(gone.State.LocalNode);
        Assert.Empty(gone.State.NodeAddresses);
    }

    [Fact]
    public void AnAddressOnlyChangeLeadsToASyncButNotAFullOne()
    {
        var tracker = NewTracker();
        var writer = new FakeLoadBalancerWriter();
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
        tracker.OnService(null, Service("web", "10.96.0.1", Port("http", 80)));
        tracker.OnNode(null, NodeWith("node-a", "zone-1", ("InternalIP", "198.51.100.1")));
        tracker.OnSynced(Source);
        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);

        tracker.OnNode(null, NodeWith("node-b", "zone-1", ("InternalIP", "198.51.100.2")));
        Assert.True(tracker.HasPendingChanges);
        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, result.Kind);
        Assert.True(result.Succeeded);
        Assert.Equal(0, result.FrontendsUpserted);
    }

    [Fact]
    public void TheSyncerHandsTheNodeAddressesOnOnTheFirstSyncAndWhenTheyChangeOnly()
    {
        var tracker = NewTracker();
        var observer = new RecordingNodeAddresses();
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), new FakeLoadBalancerWriter()) { NodeAddressObserver = observer };
        tracker.OnNode(null, NodeWith("node-b", null, ("InternalIP", "198.51.100.2")));
        Assert.Equal(SyncKind.NotSynced, syncer.SyncOnce().Kind);
        Assert.Empty(observer.Calls);

        tracker.OnSynced(Source);
        Assert.True(syncer.SyncOnce().Succeeded);
        Assert.Equal(["198.51.100.2"], Assert.Single(observer.Calls));

        // A Node update that changes no address (a heartbeat) is not handed on; a new address is.
        tracker.OnNode(NodeWith("node-b", null, ("InternalIP", "198.51.100.2")), NodeWith("node-b", "zone-2", ("InternalIP", "198.51.100.2")));
        Assert.True(syncer.SyncOnce().Succeeded);
        Assert.Single(observer.Calls);
        tracker.OnNode(null, NodeWith("node-c", null, ("ExternalIP", "203.0.113.3")));
        Assert.True(syncer.SyncOnce().Succeeded);
        Assert.Equal(["198.51.100.2", "203.0.113.3"], observer.Calls[1]);
    }

    private sealed class RecordingNodeAddresses : INodeAddressObserver
    {
        public List<List<string>> Calls { get; } = [];

        public void OnNodeAddresses(System.Collections.Immutable.ImmutableArray<System.Net.IPAddress> addresses) =>
            Calls.Add(addresses.Select(a => a.ToString()).ToList());
    }
}
