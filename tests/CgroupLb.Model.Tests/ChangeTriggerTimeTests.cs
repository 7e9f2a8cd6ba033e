using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// The endpoints.kubernetes.io/last-change-trigger-time annotation travels from the slice through the tracker's
/// checkout to the sync result, as kube-proxy's lastChangeTriggerTimes do, for the network programming latency.
/// </summary>
public class ChangeTriggerTimeTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider time = new(Start);

    private static V1EndpointSlice WebSlice(DateTimeOffset? trigger, params string[] addresses)
    {
        var slice = Slice("web-1", "web", [SlicePort("http", 8080)], addresses.Select(a => Endpoint(a)).ToArray());
        if (trigger is { } at)
            slice.Metadata.Annotations = new Dictionary<string, string> { [ChangeTriggerTime.Annotation] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'") };
        return slice;
    }

    [Theory]
    [InlineData("2026-11-27T20:00:01Z", 1, 0)]
    [InlineData("2026-11-27T20:00:01.123456789Z", 1, 1234567)]
    [InlineData("2026-11-27T21:00:01.5+01:00", 1, 5000000)]
    public void ParsesRfc3339WithUpToNineFractionDigits(string text, int second, long ticks)
    {
        Assert.Equal(Start.AddSeconds(second).AddTicks(ticks), ChangeTriggerTime.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData(null)]
    public void AnUnparseableAnnotationIsNoTriggerTime(string? text) => Assert.Null(ChangeTriggerTime.Parse(text));

    [Fact]
    public void CheckoutHandsTheTriggerTimesOfChangedSlicesOnce()
    {
        var tracker = new ClusterChangeTracker("node-a", [], time: time);
        tracker.OnEndpointSlice(null, WebSlice(Start.AddSeconds(1), "198.18.0.1"));
        tracker.OnEndpointSlice(null, WebSlice(Start.AddSeconds(2), "198.18.0.1", "198.18.0.2"));
        tracker.OnEndpointSlice(null, WebSlice(Start.AddSeconds(2), "198.18.0.1", "198.18.0.2", "198.18.0.3")); // same stamp: same change
        Assert.Equal((0, 1), tracker.PendingChangeCounts);

        ClusterChanges changes = tracker.CheckoutChanges();
        Assert.Equal([Start.AddSeconds(1), Start.AddSeconds(2)], changes.ChangeTriggerTimes.ToArray());
        Assert.Equal((0, 0), tracker.PendingChangeCounts);
        Assert.Empty(tracker.CheckoutChanges().ChangeTriggerTimes);
    }

    [Fact]
    public void TriggerTimesFromBeforeTheStartAndRevertedChangesAreDropped()
    {
        var tracker = new ClusterChangeTracker("node-a", [], time: time);
        // Stamped before the agent started: the change happened while nobody was measuring (kube-proxy skips these too).
        tracker.OnEndpointSlice(null, WebSlice(Start.AddMinutes(-5), "198.18.0.1"));
        tracker.CheckoutChanges();

        tracker.OnEndpointSlice(null, WebSlice(Start.AddSeconds(3), "198.18.0.1", "198.18.0.2"));
        tracker.OnEndpointSlice(null, WebSlice(Start.AddSeconds(4), "198.18.0.1"));
        Assert.Equal((0, 0), tracker.PendingChangeCounts);
        Assert.Empty(tracker.CheckoutChanges().ChangeTriggerTimes);
    }

    [Fact]
    public void ASuccessfulSyncReportsTheTriggerTimesItWrote()
    {
        var tracker = new ClusterChangeTracker("node-a", ["manifests"], time: time);
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), new FakeLoadBalancerWriter(), time: time);
        tracker.OnService(null, Service("web", "10.96.0.1", Port("http", 80)));
        tracker.OnEndpointSlice(null, WebSlice(Start.AddSeconds(1), "198.18.0.1"));
        tracker.OnSynced("manifests");

        SyncResult result = syncer.SyncOnce();
        Assert.True(result.Succeeded);
        Assert.Equal([Start.AddSeconds(1)], result.ChangeTriggerTimes.ToArray());
        Assert.Empty(syncer.SyncOnce().ChangeTriggerTimes);
    }
}
