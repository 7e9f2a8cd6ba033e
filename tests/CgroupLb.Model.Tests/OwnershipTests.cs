using System.Collections.Immutable;
using System.Net;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using CgroupLb.Testing;

namespace CgroupLb.Model.Tests;

/// <summary>
/// Which Service owns a frontend is a typed key (<see cref="LoadBalancerService.Owner"/>), never read back from the
/// display name: names with separators, or longer than the names map holds, change nothing about ownership.
/// </summary>
public class OwnershipTests
{
    private static ServiceSnapshot Snapshot(string ns, string name, string port, string clusterIp) =>
        new(new ServiceName(ns, name), ImmutableArray.Create(new ServicePortInfo(
            new ServicePortName(new ServiceName(ns, name), port, L4Protocol.Tcp), ImmutableArray.Create(IPAddress.Parse(clusterIp)), 80,
            L4Protocol.Tcp, null, 0, false, 0, TrafficPolicy.Cluster, TrafficPolicy.Cluster, ImmutableArray<IPAddress>.Empty,
            ImmutableArray<IPAddress>.Empty, 0, null)));

    private static ClusterState State(params ServiceSnapshot[] services) => new(
        PersistentHashMap<ServiceName, ServiceSnapshot>.From(services.Select(s => KeyValuePair.Create(s.Name, s))),
        PersistentHashMap<ServiceName, ImmutableArray<EndpointSliceInfo>>.Empty,
        null);

    public static TheoryData<string, string, string, string, string, string> CollidingNames => new()
    {
        // Both display as "a/b:c".
        { "a", "b:c", "", "a", "b", "c" },
        // Both display as "a/b/c:d".
        { "a", "b/c", "d", "a/b", "c", "d" },
        // Longer than the names map value (256 bytes) and equal in their first 300 characters.
        { "ns", new string('x', 300) + "1", "", "ns", new string('x', 300) + "2", "" },
    };

    [Theory]
    [MemberData(nameof(CollidingNames))]
    public void RemovingOneServiceNeverTouchesAnotherWhoseNameLooksTheSame(string ns1, string name1, string port1, string ns2, string name2, string port2)
    {
        var first = Snapshot(ns1, name1, port1, "10.96.0.1");
        var second = Snapshot(ns2, name2, port2, "10.96.0.2");
        var translator = new ServiceTranslator("node-a");
        var applied = translator.Translate(State(first, second)).ToImmutableDictionary();
        Assert.Equal(first.Name, applied[Frontend("10.96.0.1")].Owner);
        Assert.Equal(second.Name, applied[Frontend("10.96.0.2")].Owner);

        // The first service is gone: a partial plan for it deletes its frontend and only that one.
        var plan = LoadBalancerPlanner.PlanServices(applied, translator.Translate(State(second), [first.Name]), new HashSet<ServiceName> { first.Name });
        Assert.Empty(plan.Upserts);
        Assert.Equal([Frontend("10.96.0.1")], plan.Deletes.ToArray());

        // And a partial plan for the second, unchanged, does nothing to either.
        Assert.True(LoadBalancerPlanner.PlanServices(applied, translator.Translate(State(first, second), [second.Name]), new HashSet<ServiceName> { second.Name }).IsEmpty);
    }

    [Fact]
    public void TheSyncerKeepsOwnershipThroughPartialSyncsAndAfterAFullSyncOfMapsItDidNotWrite()
    {
        var writer = new FakeLoadBalancerWriter();
        // What an earlier run wrote: display names only, no typed owner.
        writer.Seed(
            new LoadBalancerService(Frontend("10.96.0.1"), "a/b:c", ServiceFlags.ClusterIp, []),
            new LoadBalancerService(Frontend("10.96.0.2"), "a/b:c", ServiceFlags.ClusterIp, []));
        var tracker = new ClusterChangeTracker("node-a", ["s"]);
        tracker.OnService(null, KubeObjects.Service("a", "b", "10.96.0.1", KubeObjects.Port("c", 80)));
        tracker.OnService(null, KubeObjects.Service("a", "other", "10.96.0.2", KubeObjects.Port("c", 80)));
        tracker.OnSynced("s");
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
        Assert.Equal(SyncKind.Full, syncer.SyncOnce().Kind);
        Assert.Equal(new ServiceName("a", "b"), syncer.Applied[Frontend("10.96.0.1")].Owner);
        Assert.Equal(new ServiceName("a", "other"), syncer.Applied[Frontend("10.96.0.2")].Owner);

        // a/b goes away: only its frontend is deleted, although the other one was seeded under the same display name.
        tracker.OnService(KubeObjects.Service("a", "b", "10.96.0.1", KubeObjects.Port("c", 80)), null);
        var result = syncer.SyncOnce();
        Assert.Equal((SyncKind.Partial, 1), (result.Kind, result.FrontendsDeleted));
        Assert.Equal([Frontend("10.96.0.2")], writer.Maps.Keys);
    }

    [Fact]
    public void ServiceAndPortNamesMustBeDnsLabelsSoDisplayNamesCannotCollide()
    {
        var service = KubeObjects.Service("a", "b:c", "10.96.0.1", KubeObjects.Port("x/y", 80));
        var errors = ObjectValidator.Validate(service);
        Assert.Contains(errors, e => e.Contains("metadata.name \"b:c\" must be a DNS-1035 label"));
        Assert.Contains(errors, e => e.Contains("spec.ports[0].name \"x/y\" must be a DNS-1123 label"));
        Assert.Contains(ObjectValidator.Validate(KubeObjects.Service(new string('n', 64), "web", "10.96.0.1")), e => e.Contains("metadata.namespace"));
    }

    private static Frontend Frontend(string address) => new(IPAddress.Parse(address), 80, L4Protocol.Tcp);
}
