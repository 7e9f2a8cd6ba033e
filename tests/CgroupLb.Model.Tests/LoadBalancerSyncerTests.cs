using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using k8s.Models;
using static CgroupLb.Model.Tests.Support.ConnectFlow;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

public class LoadBalancerSyncerTests
{
    private const string Source = "manifests";
    private readonly ClusterChangeTracker tracker = new("node-a", [Source]);
    private readonly FakeLoadBalancerWriter writer = new();
    private readonly RecordingObserver observer = new();

    private LoadBalancerSyncer NewSyncer(LoadBalancerSyncerOptions? options = null) =>
        new(tracker, new ServiceTranslator("node-a"), writer, options, observer: observer);

    private static V1Service Web(int port = 80) => Service("web", "10.96.0.1", Port("http", port));
    private static V1Service Api() => Service("api", "10.96.0.2", Port("http", 80));

    private static V1EndpointSlice Pods(string service, string slice, params V1Endpoint[] endpoints) =>
        Slice(slice, service, [SlicePort("http", 8080)], endpoints);

    private static LoadBalancerService Lb(string frontend, string name, params string[] backends)
    {
        var ep = IPEndPoint.Parse(frontend);
        return new LoadBalancerService(new Frontend(ep.Address, (ushort)ep.Port, L4Protocol.Tcp), name, ServiceFlags.ClusterIp,
            backends.Select(IPEndPoint.Parse).Select(b => new Backend(b.Address, (ushort)b.Port, L4Protocol.Tcp)).Order().ToImmutableArray());
    }

    private void LoadWebAndApi()
    {
        tracker.OnService(null, Web());
        tracker.OnService(null, Api());
        tracker.OnEndpointSlice(null, Pods("web", "web-1", Endpoint("198.18.0.1"), Endpoint("198.18.0.2")));
        tracker.OnEndpointSlice(null, Pods("api", "api-1", Endpoint("198.18.1.1")));
    }

    [Fact]
    public void NothingIsReadOrWrittenBeforeEverySourceHasSynced()
    {
        writer.Seed(Lb("10.96.0.99:80", "default/old", "198.18.9.9:80"));
        var syncer = NewSyncer();
        LoadWebAndApi();

        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.NotSynced, result.Kind);
        Assert.Equal(0, writer.ReadAppliedCalls);
        Assert.Empty(writer.AppliedPlans);
        Assert.True(tracker.HasPendingChanges);
        AssertFlows(writer.Maps, ("10.96.0.99:80/TCP", "198.18.9.9:80"));
    }

    [Fact]
    public void FirstSyncIsAFullDiffAgainstWhatTheMapsHold()
    {
        // A previous agent left web correct, api stale and a service that no longer exists.
        writer.Seed(
            Lb("10.96.0.1:80", "default/web:http", "198.18.0.1:8080", "198.18.0.2:8080"),
            Lb("10.96.0.2:80", "default/api:http", "198.18.1.7:8080"),
            Lb("10.96.0.99:80", "default/old", "198.18.9.9:80"));
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnSynced(Source);

        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Full, result.Kind);
        Assert.True(result.Succeeded);
        Assert.Equal(1, writer.ReadAppliedCalls);
        var plan = Assert.Single(writer.AppliedPlans);
        Assert.Equal(["10.96.0.2:80/TCP"], plan.Upserts.Select(s => s.Frontend.ToString()));
        Assert.Equal(["10.96.0.99:80/TCP"], plan.Deletes.Select(f => f.ToString()));
        Assert.Equal((1, 1, 1), (result.FrontendsUpserted, result.FrontendsDeleted, result.BackendsProgrammed));
        AssertFlows(writer.Maps,
            ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"),
            ("10.96.0.2:80/TCP", "198.18.1.1:8080"),
            ("10.96.0.99:80/TCP", Pass));
    }

    [Fact]
    public void LaterSyncsRecomputeOnlyChangedServices()
    {
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnSynced(Source);
        syncer.SyncOnce();
        // Someone removes api from the maps; a partial sync for web must not notice or touch it.
        writer.Corrupt(Lb("10.96.0.2:80", "default/api:http").Frontend);

        tracker.OnEndpointSlice(
            Pods("web", "web-1", Endpoint("198.18.0.1"), Endpoint("198.18.0.2")),
            Pods("web", "web-1", Endpoint("198.18.0.1"), Endpoint("198.18.0.2", ready: false, terminating: true)));
        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, result.Kind);
        Assert.Equal(1, result.ServicesChanged);
        Assert.Equal(1, writer.ReadAppliedCalls);
        Assert.Equal(["10.96.0.1:80/TCP"], writer.AppliedPlans[^1].Upserts.Select(s => s.Frontend.ToString()));
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.1:8080"), ("10.96.0.2:80/TCP", Pass));

        syncer.RequestFullSync();
        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);
        AssertFlows(writer.Maps, ("10.96.0.2:80/TCP", "198.18.1.1:8080"));
    }

    [Fact]
    public void RepeatedFullSyncsRepairTheMapsFromTheLatestState()
    {
        var syncer = NewSyncer();
        tracker.OnService(null, Web());
        tracker.OnEndpointSlice(null, Pods("web", "web-1", Endpoint("198.18.0.1")));
        tracker.OnSynced(Source);
        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);

        // Nothing changed: the periodic full sync reuses its translation and still repairs what the maps lost.
        writer.Corrupt(Lb("10.96.0.1:80", "default/web:http").Frontend);
        syncer.RequestFullSync();
        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.1:8080"));

        // A change written by a partial sync: the next full sync translates the new state, not the cached one.
        tracker.OnEndpointSlice(Pods("web", "web-1", Endpoint("198.18.0.1")), Pods("web", "web-1", Endpoint("198.18.0.7")));
        Assert.Equal(SyncKind.Partial, syncer.SyncOnce().Kind);
        writer.Corrupt(Lb("10.96.0.1:80", "default/web:http").Frontend);
        syncer.RequestFullSync();
        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.7:8080"));
    }

    [Fact]
    public void SyncWithNothingChangedWritesNothing()
    {
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnSynced(Source);
        syncer.SyncOnce();
        int plans = writer.AppliedPlans.Count;

        // An endpoint leaves one slice and joins another: the service changed, its backends did not.
        tracker.OnEndpointSlice(null, Pods("web", "web-2", Endpoint("198.18.0.2")));
        tracker.OnEndpointSlice(Pods("web", "web-1", Endpoint("198.18.0.1"), Endpoint("198.18.0.2")), Pods("web", "web-1", Endpoint("198.18.0.1")));
        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, result.Kind);
        Assert.Equal(1, result.ServicesChanged);
        Assert.Equal(0, result.FrontendsUpserted + result.FrontendsDeleted);
        Assert.Equal(plans, writer.AppliedPlans.Count);
    }

    [Fact]
    public void AWriterFailureMakesTheNextSyncFullAndRepairsTheHalfWrittenMaps()
    {
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnSynced(Source);
        syncer.SyncOnce();

        tracker.OnService(Web(), Web(81));
        tracker.OnService(Api(), null);
        tracker.OnService(null, Service("new", "10.96.0.3", Port("http", 80)));
        writer.FailApplies = 1;
        writer.UpsertsBeforeFailure = 1;
        SyncResult failed = syncer.SyncOnce();

        Assert.False(failed.Succeeded);
        Assert.IsType<MapWriteException>(failed.Error);
        Assert.Equal(SyncKind.Partial, failed.Kind);

        SyncResult repaired = syncer.SyncOnce();

        Assert.Equal(SyncKind.Full, repaired.Kind);
        Assert.True(repaired.Succeeded);
        Assert.Equal(2, writer.ReadAppliedCalls);
        AssertFlows(writer.Maps,
            ("10.96.0.1:80/TCP", Pass),
            ("10.96.0.1:81/TCP", "198.18.0.1:8080, 198.18.0.2:8080"),
            ("10.96.0.2:80/TCP", Pass),
            ("10.96.0.3:80/TCP", Refused));
        Assert.Equal(writer.Maps.OrderBy(kv => kv.Key), syncer.Applied.OrderBy(kv => kv.Key));
        Assert.Equal(SyncKind.Partial, syncer.SyncOnce().Kind);
    }

    [Fact]
    public void ARefusedFrontendCostsOnlyItselfAndIsRetriedAloneWithoutAFullSync()
    {
        var web = new Frontend(IPAddress.Parse("10.96.0.1"), 80, L4Protocol.Tcp);
        writer.Refuse.Add(web);
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnSynced(Source);

        SyncResult first = syncer.SyncOnce();

        Assert.True(first.Succeeded);
        Assert.Equal(SyncKind.Full, first.Kind);
        Assert.Equal(web, Assert.Single(first.Refused).Frontend);
        Assert.Equal(1, first.FrontendsUpserted);
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", Pass), ("10.96.0.2:80/TCP", "198.18.1.1:8080"));
        Assert.False(syncer.Applied.ContainsKey(web));

        // An unrelated change: its partial sync carries the refused frontend along, and nothing else.
        tracker.OnEndpointSlice(Pods("api", "api-1", Endpoint("198.18.1.1")), Pods("api", "api-1", Endpoint("198.18.1.2")));
        SyncResult second = syncer.SyncOnce();
        Assert.Equal(SyncKind.Partial, second.Kind);
        Assert.Equal(["10.96.0.1:80/TCP", "10.96.0.2:80/TCP"], writer.AppliedPlans[^1].Upserts.Select(u => u.Frontend.ToString()));
        Assert.Single(second.Refused);

        // With nothing changed, the retry alone; once the writer takes it, it is applied and no longer retried.
        writer.Refuse.Clear();
        SyncResult third = syncer.SyncOnce();
        Assert.Equal(SyncKind.Partial, third.Kind);
        Assert.Empty(third.Refused);
        Assert.Equal(["10.96.0.1:80/TCP"], writer.AppliedPlans[^1].Upserts.Select(u => u.Frontend.ToString()));
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"), ("10.96.0.2:80/TCP", "198.18.1.2:8080"));
        int plans = writer.AppliedPlans.Count;
        syncer.SyncOnce();
        Assert.Equal(plans, writer.AppliedPlans.Count);
        Assert.Equal(1, writer.ReadAppliedCalls);
    }

    [Fact]
    public void ARefusedFrontendWhoseServiceIsDeletedLosesItsRecord()
    {
        var web = new Frontend(IPAddress.Parse("10.96.0.1"), 80, L4Protocol.Tcp);
        writer.Refuse.Add(web);
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnSynced(Source);
        syncer.SyncOnce();
        Assert.Contains(web, writer.ReadRefused());

        tracker.OnService(Web(), null);
        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, result.Kind);
        Assert.Equal([web], writer.AppliedPlans[^1].Deletes.ToArray());
        Assert.Empty(writer.ReadRefused());
        Assert.Empty(result.Refused);
    }

    [Fact]
    public void AFullSyncDropsRefusalRecordsOfFrontendsNobodyDesires()
    {
        var gone = new Frontend(IPAddress.Parse("10.96.0.99"), 80, L4Protocol.Tcp);
        writer.Refuse.Add(gone);
        writer.Apply(new LoadBalancerPlan([Lb("10.96.0.99:80", "default/gone:http", "198.18.9.9:80")], []));
        Assert.Contains(gone, writer.ReadRefused());
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnSynced(Source);

        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Full, result.Kind);
        Assert.Contains(gone, writer.AppliedPlans[^1].Deletes);
        Assert.Empty(writer.ReadRefused());
    }

    [Fact]
    public void DualStackServiceIsWrittenPerFamilyWithThatFamilysSlices()
    {
        var dual = Service("web", "10.96.0.1", Port("http", 80));
        dual.Spec.ClusterIPs = ["10.96.0.1", "fd00::1"];
        tracker.OnService(null, dual);
        tracker.OnEndpointSlice(null, Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)], Endpoint("2001:db8::1")));
        tracker.OnSynced(Source);

        NewSyncer().SyncOnce();

        // No IPv4 slice: the IPv4 frontend refuses like an empty Service; the IPv6 one gets the IPv6 endpoints.
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", Refused), ("[fd00::1]:80/TCP", "[2001:db8::1]:8080"));
    }

    [Fact]
    public void NodeZoneChangeTriggersAFullSync()
    {
        var syncer = NewSyncer();
        LoadWebAndApi();
        tracker.OnNode(null, Node("node-a", "zone-1"));
        tracker.OnSynced(Source);
        syncer.SyncOnce();

        tracker.OnNode(Node("node-a", "zone-1"), Node("node-a", "zone-2"));

        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);
    }

    [Fact]
    public void ObserverHearsEverySync()
    {
        var syncer = NewSyncer();
        LoadWebAndApi();
        syncer.SyncOnce();
        tracker.OnSynced(Source);
        syncer.SyncOnce();
        writer.FailApplies = 1;
        tracker.OnService(Api(), null);
        syncer.SyncOnce();

        Assert.Equal([SyncKind.NotSynced, SyncKind.Full, SyncKind.Partial], observer.Results.Select(r => r.Kind));
        Assert.Equal([true, true, false], observer.Results.Select(r => r.Succeeded));
        Assert.Equal(2, observer.Results[1].FrontendsUpserted);
        Assert.Equal(3, observer.Results[1].BackendsProgrammed);
    }

    [Fact]
    public async Task RunAsyncCoalescesBurstsAndFollowsChanges()
    {
        var syncer = NewSyncer(new LoadBalancerSyncerOptions { MinSyncInterval = TimeSpan.FromMilliseconds(200) });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task run = syncer.RunAsync(cts.Token);

        tracker.OnService(null, Web());
        tracker.OnSynced(Source);
        await WaitUntil(() => writer.Maps.Count == 1, cts.Token);
        int plansBefore = writer.AppliedPlans.Count;

        // 40 pods arrive one by one, far faster than the minimum interval.
        var endpoints = new List<V1Endpoint>();
        V1EndpointSlice? previous = null;
        for (int i = 1; i <= 40; i++)
        {
            endpoints.Add(Endpoint($"198.18.0.{i}"));
            var current = Pods("web", "web-1", endpoints.ToArray());
            tracker.OnEndpointSlice(previous, current);
            previous = current;
        }
        await WaitUntil(() => writer.Maps.Values.Single().Backends.Length == 40, cts.Token);

        Assert.InRange(writer.AppliedPlans.Count - plansBefore, 1, 2);
        cts.Cancel();
        await run;
    }

    [Fact]
    public async Task RunAsyncRetriesFailedSyncsWithoutWaitingForNewEvents()
    {
        var syncer = NewSyncer(new LoadBalancerSyncerOptions
        {
            MinSyncInterval = TimeSpan.Zero,
            InitialRetryDelay = TimeSpan.FromMilliseconds(5),
            MaxRetryDelay = TimeSpan.FromMilliseconds(20),
        });
        writer.FailApplies = 3;
        LoadWebAndApi();
        tracker.OnSynced(Source);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        Task run = syncer.RunAsync(cts.Token);
        await WaitUntil(() => writer.Maps.Count == 2, cts.Token);
        cts.Cancel();
        await run;

        Assert.Equal([false, false, false, true], observer.Results.Select(r => r.Succeeded));
        Assert.All(observer.Results, r => Assert.Equal(SyncKind.Full, r.Kind));
    }

    [Fact]
    public async Task RunAsyncRepairsTheMapsOnTheSyncPeriod()
    {
        var syncer = NewSyncer(new LoadBalancerSyncerOptions { MinSyncInterval = TimeSpan.Zero, SyncPeriod = TimeSpan.FromMilliseconds(20), MapCheckPeriod = TimeSpan.Zero });
        LoadWebAndApi();
        tracker.OnSynced(Source);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task run = syncer.RunAsync(cts.Token);
        await WaitUntil(() => writer.Maps.Count == 2, cts.Token);

        writer.Corrupt(Lb("10.96.0.2:80", "default/api:http").Frontend);
        await WaitUntil(() => writer.Maps.Count == 2, cts.Token);
        cts.Cancel();
        await run;

        Assert.Contains(observer.Results.Skip(1), r => r.Kind == SyncKind.Full && r.FrontendsUpserted == 1);
    }

    private static async Task WaitUntil(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition()) await Task.Delay(5, cancellationToken);
    }

    private sealed class RecordingObserver : ISyncObserver
    {
        private readonly List<SyncResult> results = [];

        public IReadOnlyList<SyncResult> Results
        {
            get
            {
                lock (results) return results.ToList();
            }
        }

        public void OnSyncCompleted(SyncResult result)
        {
            lock (results) results.Add(result);
        }
    }
}
