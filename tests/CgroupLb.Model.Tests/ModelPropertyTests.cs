using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using CsCheck;
using k8s.Models;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// Random Services, EndpointSlices and edit sequences (good and bad objects alike) through the tracker and the syncer,
/// with partial syncs at random points. After any sequence: nothing threw, every programmed backend is ready (or
/// serving and terminating when none is), no frontend lists a backend twice, and the maps equal what a fresh agent's
/// full sync of the final state writes.
/// </summary>
public class ModelPropertyTests
{
    private const string Source = "property";
    private const int ServiceCount = 4;

    private abstract record Edit;
    private sealed record PutService(int Service, V1Service Object) : Edit;
    private sealed record DeleteService(int Service) : Edit;
    private sealed record PutSlice(int Service, int Slice, V1EndpointSlice Object) : Edit;
    private sealed record DeleteSlice(int Service, int Slice) : Edit;
    private sealed record Sync : Edit;

    private static string ServiceName(int i) => $"svc-{i}";

    private static readonly Gen<bool?> Condition = Gen.OneOfConst<bool?>(null, true, false);

    // Mostly valid addresses from a small pool (so slices share pods), sometimes text the API would refuse.
    private static readonly Gen<string> PodAddress = Gen.Frequency(
        (12, Gen.Int[1, 12].Select(i => $"198.18.0.{i}")),
        (1, Gen.Int[1, 12].Select(i => $"198.18.0.0{i}")),
        (1, Gen.OneOfConst("198.18.0.999", "not-an-ip", "", "2001:db8::1")));

    private static readonly Gen<V1Endpoint> EndpointGen =
        Gen.Select(PodAddress, Condition, Condition, Condition, Gen.OneOfConst<string?>(null, "node-a", "node-b"))
            .Select((address, ready, serving, terminating, node) => Endpoint(address, ready, serving, terminating, node));

    private static Gen<V1EndpointSlice> SliceGen(int service, int slice) =>
        Gen.Select(
                Gen.OneOfConst("http", "dns", "other"),
                Gen.OneOfConst("TCP", "UDP", "SCTP"),
                Gen.Frequency((8, Gen.Int[8080, 8082]), (1, Gen.Const(0))),
                EndpointGen.Array[0, 5])
            .Select((port, protocol, number, endpoints) =>
                Slice($"{ServiceName(service)}-{slice}", ServiceName(service), [SlicePort(port, number, protocol)], endpoints));

    private static Gen<V1Service> ServiceGen(int service) =>
        Gen.Select(
                Gen.Frequency((10, Gen.Const($"10.96.0.{service + 1}")), (1, Gen.Const($"10.96.0.0{service + 1}")), (1, Gen.OneOfConst<string?>("None", "10.96.0.300", null))),
                Gen.OneOfConst("http", "dns"),
                Gen.OneOfConst("TCP", "UDP"),
                Gen.Frequency((10, Gen.Const(80)), (1, Gen.Const(0))))
            .Select((clusterIp, port, protocol, number) => Service(ServiceName(service), clusterIp, Port(port, number, protocol)));

    private static readonly Gen<Edit> EditGen = Gen.Int[0, ServiceCount - 1].SelectMany(service => Gen.Frequency(
        (3, ServiceGen(service).Select(s => (Edit)new PutService(service, s))),
        (1, Gen.Const((Edit)new DeleteService(service))),
        (5, Gen.Int[0, 1].SelectMany(slice => SliceGen(service, slice).Select(s => (Edit)new PutSlice(service, slice, s)))),
        (1, Gen.Int[0, 1].Select(slice => (Edit)new DeleteSlice(service, slice))),
        (2, Gen.Const((Edit)new Sync()))));

    [Fact]
    public void AnyEditSequenceLeavesTheMapsEqualToAFreshSyncOfTheFinalState()
    {
        EditGen.Array[1, 40].Sample(edits =>
        {
            var services = new Dictionary<int, V1Service>();
            var slices = new Dictionary<(int, int), V1EndpointSlice>();
            var tracker = new ClusterChangeTracker("node-a", [Source]);
            var writer = new FakeLoadBalancerWriter();
            var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
            tracker.OnSynced(Source);
            Assert.True(syncer.SyncOnce().Succeeded);

            foreach (var edit in edits)
            {
                switch (edit)
                {
                    case PutService put:
                        tracker.OnService(services.GetValueOrDefault(put.Service), put.Object);
                        services[put.Service] = put.Object;
                        break;
                    case DeleteService delete when services.Remove(delete.Service, out var gone):
                        tracker.OnService(gone, null);
                        break;
                    case PutSlice put:
                        tracker.OnEndpointSlice(slices.GetValueOrDefault((put.Service, put.Slice)), put.Object);
                        slices[(put.Service, put.Slice)] = put.Object;
                        break;
                    case DeleteSlice delete when slices.Remove((delete.Service, delete.Slice), out var gone):
                        tracker.OnEndpointSlice(gone, null);
                        break;
                    case Sync:
                        Assert.True(syncer.SyncOnce().Succeeded);
                        break;
                }
            }

            Assert.True(syncer.SyncOnce().Succeeded);
            var maps = writer.Maps;
            AssertBackendsAreUsable(maps, services, slices);
            Assert.Equal(Sorted(FreshSync(services.Values, slices.Values)), Sorted(maps));
        }, iter: 300);
    }

    private static IReadOnlyDictionary<Frontend, LoadBalancerService> FreshSync(IEnumerable<V1Service> services, IEnumerable<V1EndpointSlice> slices)
    {
        var tracker = new ClusterChangeTracker("node-a", [Source]);
        var writer = new FakeLoadBalancerWriter();
        foreach (var service in services) tracker.OnService(null, service);
        foreach (var slice in slices) tracker.OnEndpointSlice(null, slice);
        tracker.OnSynced(Source);
        Assert.Equal(SyncKind.Full, new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer).SyncOnce().Kind);
        return writer.Maps;
    }

    private static List<string> Sorted(IReadOnlyDictionary<Frontend, LoadBalancerService> maps) =>
        [.. maps.Values.OrderBy(s => s.Frontend).Select(s => $"{s.Frontend} {s.Name} {s.Flags} [{string.Join(",", s.Backends)}]")];

    /// <summary>
    /// kube-proxy's rule on what the maps hold: per service port, copies of one address:port across slices merge
    /// (non-terminating, then ready, wins); ready ones are used, or serving-and-terminating ones when none is ready.
    /// </summary>
    private static void AssertBackendsAreUsable(
        IReadOnlyDictionary<Frontend, LoadBalancerService> maps,
        Dictionary<int, V1Service> services,
        Dictionary<(int, int), V1EndpointSlice> slices)
    {
        foreach (var lb in maps.Values)
        {
            Assert.Equal(lb.Backends.Length, lb.Backends.Distinct().Count());
            var owner = Assert.IsType<Kubernetes.ServiceName>(lb.Owner);
            var port = Assert.Single(services.Values.Single(s => s.Metadata.Name == owner.Name).Spec.Ports);
            var copies = slices.Values
                .Where(s => s.Metadata.Labels[Kubernetes.WellKnownLabels.ServiceName] == owner.Name)
                .Where(s => Kubernetes.ObjectValidator.Validate(s).Count == 0)
                .Where(s => s.Ports.Any(p => p.Name == port.Name && p.Protocol == port.Protocol))
                .SelectMany(s => s.Endpoints.Select(e => (Port: s.Ports.Single().Port!.Value, Endpoint: e)))
                .Where(c => Kubernetes.IpText.TryParse(c.Endpoint.Addresses[0], out _))
                .GroupBy(c => (Address: Kubernetes.IpText.TryParse(c.Endpoint.Addresses[0], out var a) ? a : null, c.Port))
                .ToDictionary(g => g.Key, g => g.Select(c => c.Endpoint.Conditions).MaxBy(Preference)!);
            bool anyReady = copies.Values.Any(c => c.Ready ?? true);
            foreach (var backend in lb.Backends)
            {
                Assert.True(copies.TryGetValue((backend.Address, backend.Port), out var conditions), $"{lb.Frontend}: {backend} is in no slice");
                if (anyReady) Assert.True(conditions.Ready ?? true, $"{lb.Frontend}: {backend} is not ready");
                else Assert.True((conditions.Serving ?? true) && (conditions.Terminating ?? false), $"{lb.Frontend}: {backend} is neither ready nor serving-and-terminating");
            }
        }
    }

    private static int Preference(V1EndpointConditions c) => ((c.Terminating ?? false) ? 0 : 2) + ((c.Ready ?? true) ? 1 : 0);
}
