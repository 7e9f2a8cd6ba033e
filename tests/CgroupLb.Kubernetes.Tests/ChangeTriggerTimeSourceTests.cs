using CgroupLb.Model.Kubernetes;
using CgroupLb.Testing;
using CgroupLb.Testing.FakeApi;
using k8s.Models;
using static CgroupLb.Kubernetes.Tests.RecordingChangeSink;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// The endpoints.kubernetes.io/last-change-trigger-time annotation reaches the sink on the current object, from the
/// initial list and from a watch update: the reflector's store keeps only identity and version, but what it passes
/// on is the object as the API server sent it, which the tracker reads the trigger time from.
/// </summary>
public sealed class ChangeTriggerTimeSourceTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);

    private static V1EndpointSlice Stamped(string stamp, params string[] addresses)
    {
        var slice = KubeObjects.ReadySlice("default", "web", "web-1", addresses);
        slice.Metadata.Annotations = new Dictionary<string, string> { [ChangeTriggerTime.Annotation] = stamp };
        return slice;
    }

    [Fact(Timeout = 60_000)]
    public async Task TheTriggerTimeAnnotationReachesTheSinkFromTheListAndFromTheWatch()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        server.Upsert(Stamped("2026-11-27T20:00:01.123456789Z", "192.0.2.10"));
        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        var listed = (V1EndpointSlice)run.Sink.Get(EndpointSlicesKind, "default/web-1")!;
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 20, 0, 1, TimeSpan.Zero).AddTicks(1234567), ChangeTriggerTime.Of(listed.Metadata));

        server.Upsert(Stamped("2026-11-27T20:00:02Z", "192.0.2.10", "192.0.2.11"));
        await Eventually.TrueAsync(
            () => ChangeTriggerTime.Of(run.Sink.Get(EndpointSlicesKind, "default/web-1")?.Metadata) == new DateTimeOffset(2026, 11, 27, 20, 0, 2, TimeSpan.Zero),
            Converge, () => "the watch update's trigger time at the sink");
    }
}
