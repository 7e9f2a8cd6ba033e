using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;
using CgroupLb.Testing.Logging;
using k8s.Models;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

public class ClusterChangeTrackerTests
{
    private static readonly ServiceName Web = new("default", "web");
    private static readonly ServiceName Api = new("default", "api");

    private static ClusterChangeTracker NewTracker(params string[] sources) => new("node-a", sources);

    private static V1Service WebService() => Service("web", "10.96.0.1", Port("http", 80));

    private static V1EndpointSlice WebSlice(string name, params string[] addresses) =>
        Slice(name, "web", [SlicePort("http", 8080)], addresses.Select(a => Endpoint(a)).ToArray());

    private static IEnumerable<string> Addresses(ClusterState state, ServiceName service) =>
        state.SlicesOf(service).SelectMany(s => s.Endpoints).Select(e => e.Address.ToString());

    [Fact]
    public void ManyEventsForOneServiceBecomeOneChange()
    {
        var tracker = NewTracker();
        var v1 = WebService();
        var v2 = Clone(v1);
        v2.Spec.Ports[0].Port = 81;
        var v3 = Clone(v2);
        v3.Spec.Ports[0].Port = 82;

        tracker.OnService(null, v1);
        tracker.OnService(v1, v2);
        tracker.OnService(v2, v3);
        tracker.OnEndpointSlice(null, WebSlice("web-1", "198.18.0.1"));

        ClusterChanges changes = tracker.CheckoutChanges();
        Assert.Equal([Web], changes.Services);
        Assert.Equal(82, changes.State.Services[Web].Ports.Single().Port);
        Assert.True(tracker.CheckoutChanges().IsEmpty);
    }

    [Fact]
    public void UpdateThatTouchesNoFieldThatMattersIsDropped()
    {
        var tracker = NewTracker();
        var v1 = WebService();
        tracker.OnService(null, v1);
        tracker.CheckoutChanges();

        var v2 = Clone(v1);
        v2.Metadata.ResourceVersion = "2";
        v2.Metadata.Annotations = new Dictionary<string, string> { ["owner"] = "team-a" };
        v2.Spec.Selector = new Dictionary<string, string> { ["app"] = "web" };
        tracker.OnService(v1, v2);

        Assert.False(tracker.HasPendingChanges);
        Assert.Empty(tracker.CheckoutChanges().Services);
    }

    [Fact]
    public void ChangeThatIsUndoneBeforeCheckoutIsDropped()
    {
        var tracker = NewTracker();
        var v1 = WebService();
        tracker.OnService(null, v1);
        tracker.OnEndpointSlice(null, WebSlice("web-1", "198.18.0.1"));
        tracker.CheckoutChanges();

        var v2 = Clone(v1);
        v2.Spec.Ports[0].Port = 81;
        tracker.OnService(v1, v2);
        tracker.OnService(v2, Clone(v1));
        tracker.OnEndpointSlice(WebSlice("web-1", "198.18.0.1"), WebSlice("web-1", "198.18.0.1", "198.18.0.2"));
        tracker.OnEndpointSlice(WebSlice("web-1", "198.18.0.1", "198.18.0.2"), WebSlice("web-1", "198.18.0.1"));

        Assert.True(tracker.CheckoutChanges().IsEmpty);
    }

    [Fact]
    public void CreateThenDeleteBeforeCheckoutIsNoChange()
    {
        var tracker = NewTracker();
        tracker.OnService(null, WebService());
        tracker.OnService(WebService(), null);
        tracker.OnEndpointSlice(null, WebSlice("web-1", "198.18.0.1"));
        tracker.OnEndpointSlice(WebSlice("web-1", "198.18.0.1"), null);

        Assert.True(tracker.CheckoutChanges().IsEmpty);
    }

    [Fact]
    public void DeletedServiceIsReportedAndLeavesTheState()
    {
        var tracker = NewTracker();
        tracker.OnService(null, WebService());
        tracker.CheckoutChanges();

        tracker.OnService(WebService(), null);
        ClusterChanges changes = tracker.CheckoutChanges();

        Assert.Equal([Web], changes.Services);
        Assert.False(changes.State.Services.ContainsKey(Web));
    }

    [Fact]
    public void ServiceBecomingHeadlessIsAChangeThatRemovesIt()
    {
        var tracker = NewTracker();
        var v1 = WebService();
        tracker.OnService(null, v1);
        tracker.CheckoutChanges();
        var v2 = Clone(v1);
        v2.Metadata.Labels = new Dictionary<string, string> { [WellKnownLabels.ServiceProxyName] = "other-proxy" };

        tracker.OnService(v1, v2);
        ClusterChanges changes = tracker.CheckoutChanges();

        Assert.Equal([Web], changes.Services);
        Assert.Empty(changes.State.Services);
    }

    [Fact]
    public void EndpointMovingBetweenSlicesInOneCheckoutIsKeptOnce()
    {
        var tracker = NewTracker();
        tracker.OnService(null, WebService());
        tracker.OnEndpointSlice(null, WebSlice("web-a", "198.18.0.1", "198.18.0.2"));
        tracker.OnEndpointSlice(null, WebSlice("web-b", "198.18.0.3"));
        tracker.CheckoutChanges();

        // .2 is added to b before it is removed from a, as the EndpointSlice controller may do.
        tracker.OnEndpointSlice(WebSlice("web-b", "198.18.0.3"), WebSlice("web-b", "198.18.0.2", "198.18.0.3"));
        ClusterState between = tracker.CheckoutChanges().State;
        tracker.OnEndpointSlice(WebSlice("web-a", "198.18.0.1", "198.18.0.2"), WebSlice("web-a", "198.18.0.1"));
        ClusterChanges after = tracker.CheckoutChanges();

        Assert.Equal(["198.18.0.1", "198.18.0.2", "198.18.0.2", "198.18.0.3"], Addresses(between, Web).Order());
        Assert.Equal([Web], after.Services);
        Assert.Equal(["198.18.0.1", "198.18.0.2", "198.18.0.3"], Addresses(after.State, Web).Order());
        var backends = new ServiceTranslator("node-a").Translate(between).Values.Single().Backends;
        Assert.Equal(3, backends.Length);
    }

    [Fact]
    public void SliceRelabelledToAnotherServiceMovesItsEndpoints()
    {
        var tracker = NewTracker();
        var slice = WebSlice("shared-1", "198.18.0.1");
        tracker.OnEndpointSlice(null, slice);
        tracker.CheckoutChanges();

        var relabelled = Clone(slice);
        relabelled.Metadata.Labels[WellKnownLabels.ServiceName] = "api";
        tracker.OnEndpointSlice(slice, relabelled);
        ClusterChanges changes = tracker.CheckoutChanges();

        Assert.Equal([Api, Web], changes.Services.Order());
        Assert.Empty(changes.State.SlicesOf(Web));
        Assert.Equal(["198.18.0.1"], Addresses(changes.State, Api));
    }

    [Fact]
    public void SliceThatBecomesInvalidIsWithdrawnAndLogged()
    {
        var log = new ListLogger();
        var tracker = new ClusterChangeTracker("node-a", [], logger: log);
        var slice = WebSlice("web-1", "198.18.0.1");
        tracker.OnEndpointSlice(null, slice);
        tracker.CheckoutChanges();

        var broken = Clone(slice);
        broken.Ports[0].Port = 0;
        tracker.OnEndpointSlice(slice, broken);
        ClusterChanges changes = tracker.CheckoutChanges();

        Assert.Equal([Web], changes.Services);
        Assert.Empty(changes.State.SlicesOf(Web));
        Assert.Contains(log.Warnings, w => w.Contains("EndpointSlice default/web-1: ports[0].port 0 out of range"));
    }

    [Fact]
    public void InvalidServiceIsSkippedNotThrown()
    {
        var tracker = NewTracker();
        var broken = Service("web", "10.96.0.1", Port("http", 80));
        broken.Spec.ClusterIP = "not-an-ip";
        broken.Spec.ClusterIPs = null;

        tracker.OnService(null, broken);

        Assert.True(tracker.CheckoutChanges().State.Services.IsEmpty);
    }

    [Fact]
    public void OnlyThisNodesNodeIsTrackedAndZoneChangesAreReported()
    {
        var tracker = NewTracker();
        tracker.OnNode(null, Node("node-b", "zone-9"));
        Assert.False(tracker.HasPendingChanges);

        tracker.OnNode(null, Node("node-a", "zone-1"));
        ClusterChanges first = tracker.CheckoutChanges();
        Assert.True(first.NodeChanged);
        Assert.Equal(new NodeInfo("node-a", "zone-1"), first.State.LocalNode);

        var relabelled = Node("node-a", "zone-1");
        relabelled.Metadata.Annotations = new Dictionary<string, string> { ["note"] = "x" };
        tracker.OnNode(Node("node-a", "zone-1"), relabelled);
        Assert.False(tracker.CheckoutChanges().NodeChanged);

        tracker.OnNode(relabelled, Node("node-a", "zone-2"));
        Assert.Equal("zone-2", tracker.CheckoutChanges().State.LocalNode?.Zone);
    }

    [Fact]
    public void IsSyncedOnlyWhenEveryRequiredSourceHasSynced()
    {
        var tracker = NewTracker("services", "endpointslices");
        Assert.False(tracker.IsSynced);
        tracker.OnSynced("services");
        tracker.OnSynced("nodes");
        Assert.False(tracker.IsSynced);
        tracker.OnSynced("endpointslices");
        Assert.True(tracker.IsSynced);
    }

    [Fact]
    public async Task BurstOfEventsWakesTheSyncerOnce()
    {
        var tracker = NewTracker();
        for (int i = 0; i < 50; i++)
            tracker.OnEndpointSlice(null, WebSlice($"web-{i}", $"198.18.0.{i + 1}"));

        await tracker.WaitForChangesAsync(Within.TenSeconds);
        Assert.False(await tracker.WaitForChangesAsync(TimeSpan.FromMilliseconds(20), Within.TenSeconds));
        Assert.Equal([Web], tracker.CheckoutChanges().Services);
    }

    [Fact]
    public async Task BecomingSyncedWakesTheSyncer()
    {
        var tracker = NewTracker("manifests");
        Task wait = tracker.WaitForChangesAsync(Within.TenSeconds);
        Assert.False(wait.IsCompleted);
        tracker.OnSynced("manifests");
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task NoOpEventDoesNotWakeTheSyncer()
    {
        var tracker = NewTracker();
        tracker.OnService(null, WebService());
        tracker.CheckoutChanges();
        Assert.True(await tracker.WaitForChangesAsync(TimeSpan.Zero, default));

        tracker.OnService(WebService(), WebService());

        Assert.False(await tracker.WaitForChangesAsync(TimeSpan.Zero, default));
    }

    [Fact]
    public void ConcurrentEventsAndCheckoutsLoseNothing()
    {
        var tracker = NewTracker();
        const int writers = 4, perWriter = 200;
        var seen = new HashSet<ServiceName>();
        var final = ClusterState.Empty;
        using var done = new CountdownEvent(writers);
        var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
        {
            for (int i = 0; i < perWriter; i++)
                tracker.OnService(null, Service($"svc-{w}-{i}", $"10.96.{w}.{i % 250 + 1}", Port("http", 80 + i / 250)));
            done.Signal();
        })).ToList();
        threads.ForEach(t => t.Start());
        while (!done.IsSet)
            seen.UnionWith(tracker.CheckoutChanges().Services);
        ClusterChanges last = tracker.CheckoutChanges();
        seen.UnionWith(last.Services);

        Assert.Equal(writers * perWriter, seen.Count);
        Assert.Equal(writers * perWriter, last.State.Services.Count);
    }

    [Fact]
    public async Task HoldingAServiceMarksItChangedAndIsVisibleInTheCheckout()
    {
        var tracker = NewTracker();
        tracker.OnService(null, WebService());
        tracker.CheckoutChanges();

        tracker.OnServiceHeld(Web, held: true);
        tracker.OnServiceHeld(Web, held: true);

        await tracker.WaitForChangesAsync(Within.TenSeconds);
        Assert.True(tracker.HasPendingChanges);
        Assert.Equal([Web], tracker.HeldServices);
        ClusterChanges held = tracker.CheckoutChanges();
        Assert.Equal([Web], held.Services);
        Assert.Equal([Web], held.HeldServices);
        Assert.True(held.State.Services.ContainsKey(Web));

        // Still held, nothing flipped: later checkouts keep reporting the hold without marking the service changed.
        tracker.OnService(null, Service("api", "10.96.0.2", Port("http", 80)));
        ClusterChanges later = tracker.CheckoutChanges();
        Assert.Equal([Api], later.Services);
        Assert.Equal([Web], later.HeldServices);

        tracker.OnServiceHeld(Web, held: false);
        ClusterChanges released = tracker.CheckoutChanges();
        Assert.Equal([Web], released.Services);
        Assert.Empty(released.HeldServices);
        Assert.Empty(tracker.HeldServices);
    }

    [Fact]
    public void HoldReleasedBeforeTheCheckoutIsNoChange()
    {
        var tracker = NewTracker();
        tracker.OnServiceHeld(Web, held: true);
        tracker.OnServiceHeld(Web, held: false);
        tracker.OnServiceHeld(Api, held: false);

        Assert.False(tracker.HasPendingChanges);
        ClusterChanges changes = tracker.CheckoutChanges();
        Assert.True(changes.IsEmpty);
        Assert.Empty(changes.HeldServices);
    }

    private static class Within
    {
        // A hung wait fails the test instead of hanging the run.
        public static CancellationToken TenSeconds => new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token;
    }
}
