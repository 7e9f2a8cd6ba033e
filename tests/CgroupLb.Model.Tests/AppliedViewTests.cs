using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using k8s.Models;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// The syncer's applied table is updated in place (<see cref="LoadBalancerPlanner.ApplyInPlace"/>), its owner index
/// built from it or followed, and its removed backends found before it moves on: each must agree with what the
/// desired states say, on a translated cluster with several frontends per Service, a first sync into an empty table
/// and a second sync with deletes, shrunk and changed Services.
/// </summary>
public class AppliedViewTests
{
    private const int Services = 300;

    // Service i: one to three ports, every fourth with an external IP (one more frontend per port), 1-12 endpoints.
    private static (List<V1Service> Services, List<V1EndpointSlice> Slices) Cluster(bool changed)
    {
        var services = new List<V1Service>();
        var slices = new List<V1EndpointSlice>();
        for (int i = 0; i < Services; i++)
        {
            if (changed && i % 7 == 0) continue;
            int ports = 1 + i % 3;
            if (changed && i % 5 == 0 && ports > 1) ports--;
            string name = $"svc-{i:D3}";
            var service = Service(name, $"198.18.{i / 200}.{i % 200 + 1}", [.. Enumerable.Range(0, ports).Select(p => Port($"p{p}", 80 + p))]);
            if (i % 4 == 0) service.Spec.ExternalIPs = [$"203.0.113.{i % 250 + 1}"];
            services.Add(service);
            int endpoints = 1 + i % 12;
            if (changed && i % 3 == 0 && endpoints > 1) endpoints--;
            slices.Add(Slice($"{name}-1", name, [.. Enumerable.Range(0, ports).Select(p => SlicePort($"p{p}", 8080 + p))],
                [.. Enumerable.Range(0, endpoints).Select(e => Endpoint($"198.19.{i % 250}.{e + 1}"))]));
        }
        return (services, slices);
    }

    private static IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(bool changed)
    {
        var (services, slices) = Cluster(changed);
        return new ServiceTranslator("node-a").Translate(ClusterState.FromObjects(services, slices, new ClusterObjectParser()));
    }

    // Same frontends holding the very same instances (equality of LoadBalancerService leaves the owner out).
    private static void AssertSameView(IReadOnlyDictionary<Frontend, LoadBalancerService> expected, IReadOnlyDictionary<Frontend, LoadBalancerService> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (frontend, service) in expected)
            Assert.Same(service, actual[frontend]);
    }

    private static void AssertSameOwners(FrontendOwnerIndex expected, FrontendOwnerIndex actual, IEnumerable<ServiceName> services)
    {
        foreach (ServiceName service in services)
            Assert.Equal(expected.FrontendsOf(service).Order(), actual.FrontendsOf(service).Order());
    }

    private static IEnumerable<ServiceName> AllNames() =>
        Enumerable.Range(0, Services).Select(i => new ServiceName("default", $"svc-{i:D3}")).Append(new ServiceName("default", "none"));

    [Fact]
    public void TheTableUpdatedInPlaceHoldsWhatEachSyncDesiredAndTheOwnerIndexAndRemovedBackendsAgree()
    {
        var firstDesired = Translate(changed: false);
        var secondDesired = Translate(changed: true);
        Assert.True(firstDesired.Count > Services * 2, $"{firstDesired.Count} frontends");

        // First sync: into an empty table, which then holds the very instances desired.
        var table = new Dictionary<Frontend, LoadBalancerService>();
        var first = LoadBalancerPlanner.Plan(table, firstDesired);
        Assert.Empty(RemovedBackends.FindApplied(table, first));
        LoadBalancerPlanner.ApplyInPlace(table, first);
        AssertSameView(firstDesired, table);
        var followed = new FrontendOwnerIndex();
        followed.Follow(table, first);
        var built = FrontendOwnerIndex.Build(table);
        AssertSameOwners(FrontendOwnerIndex.Build(firstDesired), built, AllNames());
        AssertSameOwners(followed, built, AllNames());
        Assert.Equal(3, built.FrontendsOf(new ServiceName("default", "svc-002")).Count);

        // Second sync: deleted Services, dropped ports, fewer endpoints. What each frontend loses, counted from the two
        // desired states alone.
        var second = LoadBalancerPlanner.Plan(table, secondDesired);
        Assert.NotEmpty(second.Deletes);
        var expectedRemoved = firstDesired
            .SelectMany(kv => kv.Value.Backends
                .Where(b => !(secondDesired.TryGetValue(kv.Key, out LoadBalancerService? now) && now.Backends.Contains(b)))
                .Select(b => new RemovedBackend(kv.Key, b).ToString()))
            .Order();
        var removed = RemovedBackends.FindApplied(table, second);
        Assert.True(removed.Length > 100, $"{removed.Length} removed");
        Assert.Equal(expectedRemoved, removed.Select(r => r.ToString()).Order());

        LoadBalancerPlanner.ApplyInPlace(table, second);
        // Frontends the second plan left alone keep the first sync's (equal) instances.
        Assert.Equal(secondDesired.Count, table.Count);
        foreach (var (frontend, service) in secondDesired)
        {
            Assert.Equal(service, table[frontend]);
            Assert.Equal(service.Owner, table[frontend].Owner);
        }
        followed.Follow(table, second);
        built.Follow(table, second);
        AssertSameOwners(FrontendOwnerIndex.Build(secondDesired), followed, AllNames());
        AssertSameOwners(FrontendOwnerIndex.Build(secondDesired), built, AllNames());
        Assert.Empty(built.FrontendsOf(new ServiceName("default", "svc-000")));
    }

    [Fact]
    public void TheOwnerIndexFollowsAServiceFromSeveralFrontendsToOneAndToNone()
    {
        var desired = Translate(changed: false);
        var svc = new ServiceName("default", "svc-002");
        var other = new ServiceName("default", "svc-005");
        var index = FrontendOwnerIndex.Build(desired);
        var owned = index.FrontendsOf(svc).Order().ToList();
        Assert.Equal(3, owned.Count);
        var othersBefore = index.FrontendsOf(other).Order().ToList();

        var table = new Dictionary<Frontend, LoadBalancerService>(desired);
        var dropTwo = new LoadBalancerPlan([], [owned[0], owned[2]]);
        LoadBalancerPlanner.ApplyInPlace(table, dropTwo);
        index.Follow(table, dropTwo);
        Assert.Equal([owned[1]], index.FrontendsOf(svc));

        // Back to two, then none.
        var addBack = new LoadBalancerPlan([desired[owned[0]]], []);
        LoadBalancerPlanner.ApplyInPlace(table, addBack);
        index.Follow(table, addBack);
        Assert.Equal([owned[0], owned[1]], index.FrontendsOf(svc).Order());
        var dropAll = new LoadBalancerPlan([], [owned[0], owned[1]]);
        LoadBalancerPlanner.ApplyInPlace(table, dropAll);
        index.Follow(table, dropAll);
        Assert.Empty(index.FrontendsOf(svc));
        Assert.Equal(othersBefore, index.FrontendsOf(other).Order());
    }

    [Fact]
    public void AnAppliedSnapshotStaysAsItWasWhileLaterSyncsChangeTheMaps()
    {
        var tracker = new ClusterChangeTracker("node-a", ["manifests"]);
        var writer = new FakeLoadBalancerWriter();
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
        Assert.Empty(syncer.Applied);
        var (services, slices) = Cluster(changed: false);
        foreach (var service in services) tracker.OnService(null, service);
        foreach (var slice in slices) tracker.OnEndpointSlice(null, slice);
        tracker.OnSynced("manifests");
        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);

        var snapshot = syncer.Applied;
        var copy = snapshot.ToDictionary();
        Assert.Equal(writer.Maps.OrderBy(kv => kv.Key), snapshot.OrderBy(kv => kv.Key));
        Assert.Same(snapshot, syncer.Applied);

        tracker.OnService(services[3], null);
        var partial = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, partial.Kind);
        Assert.True(partial.FrontendsDeleted > 0);
        AssertSameView(copy, snapshot);
        Assert.Equal(writer.Maps.OrderBy(kv => kv.Key), syncer.Applied.OrderBy(kv => kv.Key));
        Assert.Equal(copy.Count - partial.FrontendsDeleted, syncer.Applied.Count);
    }
}
