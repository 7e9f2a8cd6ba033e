using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// The tracker's checkout against a straightforward reference: the live objects after the same events, parsed into a
/// state by <see cref="ClusterState.FromObjects"/>. A first checkout of many changes, rounds of updates, deletes,
/// relabelled slices and held flips, and the snapshot promise: a state handed out never changes afterwards (the
/// syncer keeps its last full translation's state and compares the next one's tables by reference).
/// </summary>
public class TrackerCheckoutTests
{
    private const string Ns = "default";
    private static readonly ClusterObjectParser Parser = new();

    /// <summary>The events' objects as they stand, by Service name and by slice name.</summary>
    private sealed class Cluster
    {
        public Dictionary<string, V1Service> Services { get; } = [];
        public Dictionary<string, V1EndpointSlice> Slices { get; } = [];
        public HashSet<ServiceName> Held { get; } = [];

        public ClusterState Reference() => ClusterState.FromObjects(Services.Values, Slices.Values, Parser);
    }

    private static V1Service ServiceOf(int index, int port) => HttpService(Ns, $"svc-{index}", port, $"198.18.0.{index % 250 + 1}");

    private static V1EndpointSlice SliceOf(int service, string slice, int endpoints, int seed) =>
        ReadySlice(Ns, $"svc-{service}", slice, [.. Enumerable.Range(0, endpoints).Select(e => $"198.19.{(seed + e) / 250 % 250}.{(seed + e) % 250 + 1}")]);

    private static void SetService(ClusterChangeTracker tracker, Cluster cluster, V1Service? current, string name)
    {
        cluster.Services.TryGetValue(name, out V1Service? previous);
        tracker.OnService(previous, current);
        if (current is null) cluster.Services.Remove(name);
        else cluster.Services[name] = current;
    }

    private static void SetSlice(ClusterChangeTracker tracker, Cluster cluster, V1EndpointSlice? current, string name)
    {
        cluster.Slices.TryGetValue(name, out V1EndpointSlice? previous);
        tracker.OnEndpointSlice(previous, current);
        if (current is null) cluster.Slices.Remove(name);
        else cluster.Slices[name] = current;
    }

    private static void AssertSameState(ClusterState expected, ClusterState actual)
    {
        Assert.Equal(expected.Services.Keys.Order(), actual.Services.Keys.Order());
        foreach ((ServiceName name, ServiceSnapshot snapshot) in expected.Services)
            Assert.Equal(snapshot, actual.Services[name]);
        Assert.Equal(expected.SlicesByService.Keys.Order(), actual.SlicesByService.Keys.Order());
        foreach ((ServiceName name, var slices) in expected.SlicesByService)
            Assert.Equal(slices.ToArray(), actual.SlicesByService[name].ToArray());
    }

    /// <summary>Every Service and slice list that differs between two states (the least a checkout must list).</summary>
    private static HashSet<ServiceName> Differing(ClusterState before, ClusterState after)
    {
        var names = before.Services.Keys.Concat(after.Services.Keys).Concat(before.SlicesByService.Keys).Concat(after.SlicesByService.Keys);
        return names.Where(n => !Equals(before.Services.GetValueOrDefault(n), after.Services.GetValueOrDefault(n))
            || !before.SlicesOf(n).SequenceEqual(after.SlicesOf(n))).ToHashSet();
    }

    [Fact]
    public void AFirstCheckoutOfManyChangesEqualsTheReferenceFold()
    {
        var tracker = new ClusterChangeTracker("node-a", []);
        var cluster = new Cluster();
        // 300 Services with 0-3 slices each, and slices of 20 Services that do not exist.
        for (int i = 0; i < 320; i++)
        {
            if (i < 300) SetService(tracker, cluster, ServiceOf(i, 80 + i % 3), $"svc-{i}");
            for (int s = 0; s < i % 4; s++)
                SetSlice(tracker, cluster, SliceOf(i, $"svc-{i}-{(char)('c' - s)}", 1 + (i + s) % 5, i * 10 + s), $"svc-{i}-{(char)('c' - s)}");
        }

        ClusterChanges changes = tracker.CheckoutChanges();
        ClusterState reference = cluster.Reference();
        AssertSameState(reference, changes.State);
        Assert.Equal(300, changes.State.Services.Count);
        Assert.Equal(Differing(ClusterState.Empty, reference).Order(), changes.Services.Order());
        Assert.Empty(changes.HeldServices);
        Assert.True(tracker.CheckoutChanges().IsEmpty);
    }

    [Fact]
    public void CheckoutsAfterRoundsOfUpdatesDeletesAndRelabelsEqualTheReferenceFold()
    {
        var random = new Random(20261128);
        var tracker = new ClusterChangeTracker("node-a", []);
        var cluster = new Cluster();
        ClusterState previous = ClusterState.Empty;
        var earlier = new List<(ClusterState State, ClusterState Reference)>();
        for (int round = 0; round < 40; round++)
        {
            var touched = new HashSet<ServiceName>();
            // A first round of many changes, then partial rounds of one to a few events.
            int events = round == 0 ? 400 : random.Next(1, 6);
            for (int e = 0; e < events; e++)
            {
                int service = random.Next(60);
                var name = new ServiceName(Ns, $"svc-{service}");
                touched.Add(name);
                string slice = $"svc-{service}-{random.Next(3)}";
                switch (random.Next(7))
                {
                    case 0:
                        SetService(tracker, cluster, ServiceOf(service, 80 + random.Next(3)), name.Name);
                        break;
                    case 1:
                        SetService(tracker, cluster, null, name.Name);
                        break;
                    case 2 or 3:
                        // The slice keeps its name; if another Service owned it, that one changes too.
                        if (cluster.Slices.TryGetValue(slice, out V1EndpointSlice? owned))
                            touched.Add(new ServiceName(Ns, owned.Metadata.Labels["kubernetes.io/service-name"]));
                        SetSlice(tracker, cluster, SliceOf(service, slice, 1 + random.Next(4), random.Next(1000)), slice);
                        break;
                    case 4:
                        if (cluster.Slices.TryGetValue(slice, out V1EndpointSlice? gone))
                            touched.Add(new ServiceName(Ns, gone.Metadata.Labels["kubernetes.io/service-name"]));
                        SetSlice(tracker, cluster, null, slice);
                        break;
                    case 5:
                        // Relabelled to another Service: withdrawn from its owner, added to the other.
                        int other = random.Next(60);
                        touched.Add(new ServiceName(Ns, $"svc-{other}"));
                        if (cluster.Slices.TryGetValue(slice, out V1EndpointSlice? moved))
                            touched.Add(new ServiceName(Ns, moved.Metadata.Labels["kubernetes.io/service-name"]));
                        SetSlice(tracker, cluster, SliceOf(other, slice, 2, random.Next(1000)), slice);
                        break;
                    default:
                        bool held = !cluster.Held.Contains(name);
                        tracker.OnServiceHeld(name, held);
                        if (held) cluster.Held.Add(name);
                        else cluster.Held.Remove(name);
                        break;
                }
            }

            ClusterChanges changes = tracker.CheckoutChanges();
            ClusterState reference = cluster.Reference();
            AssertSameState(reference, changes.State);
            // Listed: at least every Service whose state differs, at most those the round's events touched.
            Assert.Superset(Differing(previous, reference), changes.Services.ToHashSet());
            Assert.Subset(touched, changes.Services.ToHashSet());
            Assert.Equal(cluster.Held.Order(), changes.HeldServices.Order());
            earlier.Add((changes.State, reference));
            previous = reference;
        }

        // Every state handed out is still what it was when it was handed out.
        foreach ((ClusterState state, ClusterState reference) in earlier)
            AssertSameState(reference, state);
    }

    [Fact]
    public void AnEarlierSnapshotIsUnchangedByLaterCheckouts()
    {
        var tracker = new ClusterChangeTracker("node-a", []);
        var cluster = new Cluster();
        for (int i = 0; i < 100; i++)
        {
            SetService(tracker, cluster, ServiceOf(i, 80), $"svc-{i}");
            SetSlice(tracker, cluster, SliceOf(i, $"svc-{i}-a", 3, i), $"svc-{i}-a");
        }
        tracker.OnServiceHeld(new ServiceName(Ns, "svc-1"), true);
        ClusterChanges first = tracker.CheckoutChanges();
        var services = first.State.Services.ToDictionary();
        var slices = first.State.SlicesByService.ToDictionary(p => p.Key, p => p.Value.ToArray());
        var changed = first.Services.ToHashSet();

        // A partial change, deletes of both kinds, a new Service, a release: checked out one by one.
        SetSlice(tracker, cluster, SliceOf(5, "svc-5-a", 4, 500), "svc-5-a");
        ClusterChanges partial = tracker.CheckoutChanges();
        SetService(tracker, cluster, null, "svc-6");
        SetSlice(tracker, cluster, null, "svc-7-a");
        SetService(tracker, cluster, ServiceOf(200, 80), "svc-200");
        tracker.OnServiceHeld(new ServiceName(Ns, "svc-1"), false);
        ClusterChanges deletes = tracker.CheckoutChanges();

        Assert.Equal([new ServiceName(Ns, "svc-5")], partial.Services);
        Assert.NotSame(first.State.SlicesByService, partial.State.SlicesByService);
        Assert.Same(first.State.Services, partial.State.Services);
        Assert.Same(first.HeldServices, partial.HeldServices);
        Assert.NotSame(partial.State.Services, deletes.State.Services);
        Assert.Empty(deletes.HeldServices);
        AssertSameState(cluster.Reference(), deletes.State);

        Assert.Equal(services, first.State.Services.ToDictionary());
        Assert.Equal(slices.Keys.Order(), first.State.SlicesByService.Keys.Order());
        foreach ((ServiceName name, EndpointSliceInfo[] list) in slices)
            Assert.Equal(list, first.State.SlicesByService[name].ToArray());
        Assert.Equal(changed, first.Services.ToHashSet());
        Assert.Equal([new ServiceName(Ns, "svc-1")], first.HeldServices);
        Assert.Equal(3, first.State.SlicesOf(new ServiceName(Ns, "svc-5")).Single().Endpoints.Count());
    }

    [Fact]
    public void TriggerTimesOfSeveralServicesComeOutOldestFirst()
    {
        var start = new DateTimeOffset(2026, 11, 28, 18, 0, 0, TimeSpan.Zero);
        var tracker = new ClusterChangeTracker("node-a", [], time: new FakeTimeProvider(start));
        int[] seconds = [5, 2, 9, 1, 7];
        for (int i = 0; i < seconds.Length; i++)
        {
            var slice = SliceOf(i, $"svc-{i}-a", 1, i);
            slice.Metadata.Annotations = new Dictionary<string, string>
            {
                [ChangeTriggerTime.Annotation] = start.AddSeconds(seconds[i]).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
            };
            tracker.OnEndpointSlice(null, slice);
        }

        ClusterChanges changes = tracker.CheckoutChanges();
        Assert.Equal(seconds.Order().Select(s => start.AddSeconds(s)), changes.ChangeTriggerTimes);
        Assert.Empty(tracker.CheckoutChanges().ChangeTriggerTimes);
    }
}
