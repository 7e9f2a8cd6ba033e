using System.Collections.Immutable;
using System.Net;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using CgroupLb.Testing.Logging;
using k8s.Models;
using Microsoft.Extensions.Logging;
using static CgroupLb.Model.Tests.Support.ConnectFlow;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// A restarted agent adopts maps that hold a service's good state while its manifest is invalid and the source has no
/// last good state for it. The source holds the service; the syncer must then leave its frontends exactly as they are.
/// </summary>
public class HeldServiceSyncTests
{
    private const string Source = "manifests";
    private static readonly ServiceName WebName = new("default", "web");
    private static readonly ServiceName NewName = new("default", "new");
    private readonly ClusterChangeTracker tracker = new("node-a", [Source]);
    private readonly FakeLoadBalancerWriter writer = new();
    private readonly ListLogger log = new();

    private LoadBalancerSyncer NewSyncer() => new(tracker, new ServiceTranslator("node-a"), writer, logger: log);

    private static V1Service Web() => Service("web", "10.96.0.1", Port("http", 80));
    private static V1Service Api() => Service("api", "10.96.0.2", Port("http", 80));
    private static V1Service New() => Service("new", "10.96.0.3", Port("http", 80));

    private static V1EndpointSlice Pods(string service, string slice, params string[] addresses) =>
        Slice(slice, service, [SlicePort("http", 8080)], addresses.Select(a => Endpoint(a)).ToArray());

    private static LoadBalancerService Lb(string frontend, string name, params string[] backends)
    {
        var ep = IPEndPoint.Parse(frontend);
        return new LoadBalancerService(new Frontend(ep.Address, (ushort)ep.Port, L4Protocol.Tcp), name, ServiceFlags.ClusterIp,
            backends.Select(IPEndPoint.Parse).Select(b => new Backend(b.Address, (ushort)b.Port, L4Protocol.Tcp)).Order().ToImmutableArray());
    }

    // What the previous run left: web with two pods, api with a pod that has since been replaced.
    private void SeedPreviousRun() => writer.Seed(
        Lb("10.96.0.1:80", "default/web:http", "198.18.0.1:8080", "198.18.0.2:8080"),
        Lb("10.96.0.2:80", "default/api:http", "198.18.1.7:8080"));

    private IEnumerable<string> Infos => log.Entries.Where(e => e.Level == LogLevel.Information).Select(e => e.Message);

    [Fact]
    public void FullSyncLeavesAHeldServiceWithoutSlicesAsTheMapsHoldIt()
    {
        SeedPreviousRun();
        var syncer = NewSyncer();
        // Restart: web's Service document is fine, its slice document is invalid and nothing stands in for it.
        tracker.OnServiceHeld(WebName, held: true);
        tracker.OnService(null, Web());
        tracker.OnService(null, Api());
        tracker.OnEndpointSlice(null, Pods("api", "api-1", "198.18.1.1"));
        tracker.OnSynced(Source);

        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Full, result.Kind);
        var plan = Assert.Single(writer.AppliedPlans);
        Assert.Equal(["10.96.0.2:80/TCP"], plan.Upserts.Select(s => s.Frontend.ToString()));
        Assert.Empty(plan.Deletes);
        AssertFlows(writer.Maps,
            ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"),
            ("10.96.0.2:80/TCP", "198.18.1.1:8080"));
        Assert.Equal(writer.Maps.OrderBy(kv => kv.Key), syncer.Applied.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void FullSyncDoesNotDeleteAHeldServiceThatIsAbsentFromTheState()
    {
        SeedPreviousRun();
        var syncer = NewSyncer();
        // Web's Service document is invalid: the service is not in the state at all, only its valid slice is.
        tracker.OnServiceHeld(WebName, held: true);
        tracker.OnEndpointSlice(null, Pods("web", "web-1", "198.18.0.1", "198.18.0.2"));
        tracker.OnService(null, Api());
        tracker.OnEndpointSlice(null, Pods("api", "api-1", "198.18.1.7"));
        tracker.OnSynced(Source);

        syncer.SyncOnce();

        Assert.Empty(writer.AppliedPlans);
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"));

        // The document is removed for good: a real delete, and the service is no longer held.
        tracker.OnEndpointSlice(Pods("web", "web-1", "198.18.0.1", "198.18.0.2"), null);
        tracker.OnServiceHeld(WebName, held: false);
        SyncResult released = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, released.Kind);
        Assert.Equal(["10.96.0.1:80/TCP"], writer.AppliedPlans[^1].Deletes.Select(f => f.ToString()));
        Assert.Empty(writer.AppliedPlans[^1].Upserts);
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", Pass), ("10.96.0.2:80/TCP", "198.18.1.7:8080"));
    }

    [Fact]
    public void ReleasingTheHoldAppliesTheRealDesiredState()
    {
        SeedPreviousRun();
        var syncer = NewSyncer();
        tracker.OnServiceHeld(WebName, held: true);
        tracker.OnService(null, Web());
        tracker.OnService(null, Api());
        tracker.OnEndpointSlice(null, Pods("api", "api-1", "198.18.1.7"));
        tracker.OnSynced(Source);
        syncer.SyncOnce();

        // The slice document is fixed (one pod left): the source delivers the slice, then releases the hold.
        tracker.OnEndpointSlice(null, Pods("web", "web-1", "198.18.0.2"));
        tracker.OnServiceHeld(WebName, held: false);
        SyncResult result = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, result.Kind);
        Assert.Equal(1, result.ServicesChanged);
        Assert.Equal(["10.96.0.1:80/TCP"], writer.AppliedPlans[^1].Upserts.Select(s => s.Frontend.ToString()));
        AssertFlows(writer.Maps, ("10.96.0.1:80/TCP", "198.18.0.2:8080"));
    }

    [Fact]
    public void PartialSyncWritesNothingForAHeldServiceButEverythingElse()
    {
        var syncer = NewSyncer();
        tracker.OnService(null, Web());
        tracker.OnEndpointSlice(null, Pods("web", "web-1", "198.18.0.1", "198.18.0.2"));
        tracker.OnService(null, Api());
        tracker.OnSynced(Source);
        syncer.SyncOnce();
        int plans = writer.AppliedPlans.Count;

        // In one partial sync: web is held and loses its objects, api gains a pod, and a new service arrives held
        // (its slice document is invalid), so there is nothing applied to keep for it.
        tracker.OnServiceHeld(WebName, held: true);
        tracker.OnEndpointSlice(Pods("web", "web-1", "198.18.0.1", "198.18.0.2"), null);
        tracker.OnService(Web(), null);
        tracker.OnEndpointSlice(null, Pods("api", "api-1", "198.18.1.1"));
        tracker.OnServiceHeld(NewName, held: true);
        tracker.OnService(null, New());
        SyncResult held = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, held.Kind);
        Assert.Equal(3, held.ServicesChanged);
        Assert.Equal(plans + 1, writer.AppliedPlans.Count);
        Assert.Equal(["10.96.0.2:80/TCP"], writer.AppliedPlans[^1].Upserts.Select(s => s.Frontend.ToString()));
        Assert.Empty(writer.AppliedPlans[^1].Deletes);
        AssertFlows(writer.Maps,
            ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"),
            ("10.96.0.2:80/TCP", "198.18.1.1:8080"),
            ("10.96.0.3:80/TCP", Pass));

        tracker.OnServiceHeld(WebName, held: false);
        tracker.OnServiceHeld(NewName, held: false);
        SyncResult released = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, released.Kind);
        Assert.Equal((1, 1), (released.FrontendsUpserted, released.FrontendsDeleted));
        AssertFlows(writer.Maps,
            ("10.96.0.1:80/TCP", Pass),
            ("10.96.0.2:80/TCP", "198.18.1.1:8080"),
            ("10.96.0.3:80/TCP", Refused));
    }

    [Fact]
    public void FrontendAHeldServiceHoldsIsNotGivenToAnotherService()
    {
        SeedPreviousRun();
        var syncer = NewSyncer();
        // Api now claims web's ClusterIP; web is held, so the maps keep web's frontend until web can be read.
        tracker.OnServiceHeld(WebName, held: true);
        tracker.OnService(null, Service("api", "10.96.0.1", Port("http", 80)));
        tracker.OnEndpointSlice(null, Pods("api", "api-1", "198.18.1.1"));
        tracker.OnSynced(Source);

        syncer.SyncOnce();

        var plan = Assert.Single(writer.AppliedPlans);
        Assert.Empty(plan.Upserts);
        Assert.Equal(["10.96.0.2:80/TCP"], plan.Deletes.Select(f => f.ToString()));
        Assert.Equal("default/web:http", writer.Maps[Lb("10.96.0.1:80", "any").Frontend].Name);
    }

    [Fact]
    public void EachHoldAndReleaseIsLoggedOnce()
    {
        var syncer = NewSyncer();
        tracker.OnServiceHeld(WebName, held: true);
        tracker.OnSynced(Source);
        syncer.SyncOnce();
        tracker.OnService(null, Api());
        syncer.SyncOnce();
        syncer.RequestFullSync();
        syncer.SyncOnce();
        tracker.OnServiceHeld(WebName, held: false);
        syncer.SyncOnce();
        syncer.SyncOnce();

        Assert.Equal(
            [
                "Service default/web held: its source reports an invalid document and has no last good state; keeping what the maps hold",
                "Service default/web released: its document is valid again or gone; syncing it normally",
            ],
            Infos.Where(m => m.Contains("default/web")));
    }
}
