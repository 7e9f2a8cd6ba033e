using System.Collections.Immutable;
using System.Net;
using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>Which backends a sync took from which frontends: the input of socket termination.</summary>
public class RemovedBackendsTests
{
    private static LoadBalancerService Lb(string frontend, params string[] backends)
    {
        var ep = IPEndPoint.Parse(frontend);
        return new LoadBalancerService(new Frontend(ep.Address, (ushort)ep.Port, L4Protocol.Udp), "kube-system/dns:dns", ServiceFlags.ClusterIp,
            backends.Select(IPEndPoint.Parse).Select(b => new Backend(b.Address, (ushort)b.Port, L4Protocol.Udp)).Order().ToImmutableArray());
    }

    private static Dictionary<Frontend, LoadBalancerService> Map(params LoadBalancerService[] services) => services.ToDictionary(s => s.Frontend);

    private static IEnumerable<string> Names(IEnumerable<RemovedBackend> removed) => removed.Select(r => r.ToString()).Order();

    [Fact]
    public void ABackendThatLeftAnUpsertedFrontendIsRemovedAndKeptOrAddedOnesAreNot()
    {
        var before = Map(Lb("10.96.0.10:53", "198.18.0.1:53", "198.18.0.2:53"));
        var after = Map(Lb("10.96.0.10:53", "198.18.0.2:53", "198.18.0.3:53"));
        var plan = new LoadBalancerPlan([after.Values.Single()], []);

        Assert.Equal(["198.18.0.1:53 from 10.96.0.10:53/UDP"], Names(RemovedBackends.FindApplied(before, plan)));
    }

    [Fact]
    public void ADeletedFrontendLosesEveryBackendAndOneEmptiedToo()
    {
        var before = Map(Lb("10.96.0.10:53", "198.18.0.1:53", "198.18.0.2:53"), Lb("10.96.0.11:53", "198.18.0.5:53"));
        var after = Map(Lb("10.96.0.11:53"));
        var plan = new LoadBalancerPlan([after.Values.Single()], [before.Keys.First(f => f.Port == 53 && f.Address.ToString() == "10.96.0.10")]);

        Assert.Equal(
            ["198.18.0.1:53 from 10.96.0.10:53/UDP", "198.18.0.2:53 from 10.96.0.10:53/UDP", "198.18.0.5:53 from 10.96.0.11:53/UDP"],
            Names(RemovedBackends.FindApplied(before, plan)));
    }

    [Fact]
    public void ABackendMovedToAnotherPortCountsAsRemovedOnTheOldPort()
    {
        var before = Map(Lb("10.96.0.10:53", "198.18.0.1:53"));
        var after = Map(Lb("10.96.0.10:53", "198.18.0.1:5353"));
        var plan = new LoadBalancerPlan([after.Values.Single()], []);

        Assert.Equal(["198.18.0.1:53 from 10.96.0.10:53/UDP"], Names(RemovedBackends.FindApplied(before, plan)));
    }

    [Fact]
    public void FrontendsOutsideThePlanAndNewFrontendsRemoveNothing()
    {
        var before = Map(Lb("10.96.0.10:53", "198.18.0.1:53"));
        // 10.96.0.10 is not in the plan (unchanged, or its write refused): whatever it holds is not this sync's doing.
        var plan = new LoadBalancerPlan([Lb("10.96.0.12:53", "198.18.0.9:53")], []);

        Assert.Empty(RemovedBackends.FindApplied(before, plan));
    }

    [Fact]
    public void TheSyncerReportsRemovalsAfterASuccessfulSyncOnly()
    {
        const string source = "manifests";
        var tracker = new ClusterChangeTracker("node-a", [source]);
        var writer = new FakeLoadBalancerWriter();
        var observer = new RecordingRemovals();
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer) { BackendRemovalObserver = observer };
        var web = Service("web", "10.96.0.1", Port("http", 80));
        var slice = Slice("web-1", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1"), Endpoint("198.18.0.2"));
        tracker.OnService(null, web);
        tracker.OnEndpointSlice(null, slice);
        tracker.OnSynced(source);
        Assert.True(syncer.SyncOnce().Succeeded);
        Assert.Empty(observer.Calls);

        var shrunk = Slice("web-1", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.2"));
        tracker.OnEndpointSlice(slice, shrunk);
        writer.FailApplies = 1;
        Assert.False(syncer.SyncOnce().Succeeded);
        Assert.Empty(observer.Calls);

        Assert.True(syncer.SyncOnce().Succeeded);
        Assert.Equal(["198.18.0.1:8080 from 10.96.0.1:80/TCP"], Names(Assert.Single(observer.Calls)));

        tracker.OnService(web, null);
        Assert.True(syncer.SyncOnce().Succeeded);
        Assert.Equal(["198.18.0.2:8080 from 10.96.0.1:80/TCP"], Names(observer.Calls[1]));
    }

    private sealed class RecordingRemovals : IBackendRemovalObserver
    {
        public List<ImmutableArray<RemovedBackend>> Calls { get; } = [];

        public void OnBackendsRemoved(ImmutableArray<RemovedBackend> removed) => Calls.Add(removed);
    }
}
