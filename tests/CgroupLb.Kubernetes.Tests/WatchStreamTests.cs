using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Testing;
using CgroupLb.Testing.FakeApi;
using k8s;
using k8s.Models;
using static CgroupLb.Kubernetes.Tests.RecordingChangeSink;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// The watch streams as the source reads them (our GET through KubernetesClient's pipeline, our event decoder) against
/// the fake API server: a malformed object in an event is refused alone without a relist, the stream's version moves
/// past it, and what the server misbehaves with (a cut, its timeout) resumes the watch where it was.
/// </summary>
public sealed class WatchStreamTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);

    public static TheoryData<string> MalformedKinds => [ServicesKind, EndpointSlicesKind];

    /// <summary>
    /// Before the watch had its own decoder, the malformed event failed KubernetesClient's deserialisation: the
    /// reflector counted a Decode error, restarted the watch as Desynced and relisted the whole kind (every object
    /// re-read) for each such event; the relist's decoder then refused the object. No loop, but a full relist per
    /// malformed event, and the refusal named the object only from the relist.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(MalformedKinds))]
    public async Task AMalformedObjectInAWatchEventIsRefusedAloneAndLaterEventsApply(string kind)
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        server.Upsert(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.10"));
        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);
        var source = kind == ServicesKind ? KubernetesSource.ServicesSource : KubernetesSource.EndpointSlicesSource;
        var resource = kind == ServicesKind ? FakeResource.Services : FakeResource.EndpointSlices;
        var key = kind == ServicesKind ? "default/web" : "default/web-1";
        var lastGood = run.Sink.Versions(kind)[key];

        var malformedVersion = kind == ServicesKind
            ? server.UpsertJson(FakeResource.Services, """{"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"198.18.0.10","ports":[{"name":"http","port":"80","protocol":"TCP"}]}}""")
            : server.UpsertJson(FakeResource.EndpointSlices, """{"metadata":{"name":"web-1","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","endpoints":[{"addresses":"192.0.2.11"}]}""");
        server.Upsert(KubeObjects.HttpService("default", "api", 443));
        server.Upsert(KubeObjects.ReadySlice("default", "api", "api-1", "192.0.2.20"));
        await Eventually.TrueAsync(
            () => run.Sink.Versions(ServicesKind).ContainsKey("default/api") && run.Sink.Versions(EndpointSlicesKind).ContainsKey("default/api-1"),
            Converge, () => "later events applied: " + run.Observer.Describe());

        Assert.Equal(1, run.Observer.Errors(source, ReflectorErrorKind.Refused));
        Assert.Equal(0, run.Observer.Errors(source, ReflectorErrorKind.Decode));
        Assert.Equal(0, run.Observer.Restarts(source, WatchRestartReason.Desynced));
        Assert.Single(run.Observer.Relists(source));
        var field = kind == ServicesKind ? "spec.ports[0].port: expected an integer, found a string" : "endpoints[0].addresses: expected a list, found a string";
        Assert.Contains(
            $"{source}: refused {key} from a Modified watch event at resourceVersion {malformedVersion}, keeping its last good state; later events apply: {field}",
            run.Log.Warnings);
        // The sink keeps the last good state of the refused object.
        Assert.Equal(lastGood, run.Sink.Versions(kind)[key]);

        // The stream's version moved past the refused event: a reopened watch does not read it again.
        var watchesBefore = server.WatchRequests(resource).Count;
        server.DropAllWatches();
        await Eventually.TrueAsync(
            () => server.WatchRequests(resource).Count > watchesBefore, Converge, () => "watch reopened: " + run.Observer.Describe());
        Assert.True(long.Parse(server.WatchRequests(resource)[watchesBefore].ResourceVersion!) >= malformedVersion);
        await Task.Delay(200);
        Assert.Equal(1, run.Observer.Errors(source, ReflectorErrorKind.Refused));

        // A good version of the object applies again.
        if (kind == ServicesKind)
        {
            server.Upsert(KubeObjects.HttpService("default", "web", 8080));
        }
        else
        {
            server.Upsert(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.12"));
        }

        await AssertConvergedAsync(run.Sink, server);
    }

    [Fact(Timeout = 60_000)]
    public async Task WatchesAreAskedForWithTheCredentialsBookmarksAndTheListsVersion()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        using var kubeconfig = KubeconfigFile.Write(server.Host, token: "watch-t0ken");
        var listVersion = server.CurrentVersion;
        await using var run = SourceRun.Start(KubernetesClientFactory.Create(kubeconfig.Path));
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);

        foreach (var resource in new[] { FakeResource.Services, FakeResource.EndpointSlices })
        {
            var watch = server.WatchRequests(resource)[0];
            Assert.Equal("Bearer watch-t0ken", watch.Authorization);
            Assert.Equal(listVersion.ToString(), watch.ResourceVersion);
            var query = System.Web.HttpUtility.ParseQueryString(watch.Query);
            Assert.Equal("1", query["watch"]);
            Assert.Equal("true", query["allowWatchBookmarks"]);
            // FastOptions.WatchServerTimeout is 60 s, spread over [1, 2) times that so watches do not all end together.
            Assert.InRange(int.Parse(query["timeoutSeconds"]!), 60, 120);
        }

        server.Upsert(KubeObjects.HttpService("default", "api"));
        await AssertConvergedAsync(run.Sink, server);
    }

    /// <summary>
    /// A connection reset in the middle of an event loses nothing that was applied: the watch reopens from the last whole
    /// event without a relist. A response that ends normally with its last line cut short is a broken stream: relist.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AWatchEndedInTheMiddleOfAnEventResumesOrRelists(bool reset)
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);
        var lastWhole = server.Upsert(KubeObjects.HttpService("default", "api", 443));
        await AssertConvergedAsync(run.Sink, server);

        var watchesBefore = server.WatchRequests(FakeResource.Services).Count;
        server.EndWatchesMidEvent(FakeResource.Services, """{"type":"MODIFIED","object":{"kind":"Service","metadata":{"name":"web","namespace":"default","resourceVersion":"9""", reset);
        await Eventually.TrueAsync(
            () => server.WatchRequests(FakeResource.Services).Count > watchesBefore && server.OpenWatches(FakeResource.Services) == 1,
            Converge, () => "services watch reopened: " + run.Observer.Describe());

        if (reset)
        {
            Assert.Equal(lastWhole.ToString(), server.WatchRequests(FakeResource.Services)[watchesBefore].ResourceVersion);
            Assert.Single(run.Observer.Relists(KubernetesSource.ServicesSource));
            Assert.Equal(1, run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Failed));
        }
        else
        {
            Assert.Equal(2, run.Observer.Relists(KubernetesSource.ServicesSource).Count);
            Assert.Equal(1, run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.Decode));
            Assert.Equal(1, run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Desynced));
        }

        var mark = run.Sink.Count;
        server.Upsert(KubeObjects.HttpService("default", "web", 8080));
        await AssertConvergedAsync(run.Sink, server);
        Assert.Single(run.Sink.EntriesSince(mark));
    }

    [Fact(Timeout = 60_000)]
    public async Task TheServersTimeoutEndsAWatchThatThenResumesWithoutRelisting()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        await using var run = SourceRun.Start(server.Host, reflector: SourceRun.FastOptions with { WatchServerTimeout = TimeSpan.FromSeconds(1) });
        await run.WaitSyncedAsync(Converge);

        await Eventually.TrueAsync(
            () => run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Closed) >= 2, Converge, () => run.Observer.Describe());
        server.Upsert(KubeObjects.HttpService("default", "api"));
        await AssertConvergedAsync(run.Sink, server);

        Assert.Single(run.Observer.Relists(KubernetesSource.ServicesSource));
        Assert.Equal(0, run.Observer.Errors(KubernetesSource.ServicesSource));
    }

    /// <summary>An ERROR event other than 410 may hide lost events: the watch ends there and the kind is relisted.</summary>
    [Fact(Timeout = 60_000)]
    public async Task AnErrorEventOtherThanGoneRelists()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);

        server.InjectWatchLine(
            FakeResource.Services,
            """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcd is sulking","reason":"InternalError","code":500}}""");
        await Eventually.TrueAsync(
            () => run.Observer.Relists(KubernetesSource.ServicesSource).Count == 2, Converge, () => "relisted after the error: " + run.Observer.Describe());

        Assert.Equal(1, run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.WatchStatus));
        Assert.Equal(1, run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Desynced));
        Assert.Contains(run.Log.Warnings, w => w.Contains("etcd is sulking", StringComparison.Ordinal));
        server.Upsert(KubeObjects.HttpService("default", "api"));
        await AssertConvergedAsync(run.Sink, server);
    }

    [Fact(Timeout = 60_000)]
    public async Task TheTypedCallsStillListAndWatch()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        server.Upsert(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.10"));
        await using var run = SourceRun.Start(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = server.Host }), typed: true);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);

        server.Upsert(KubeObjects.HttpService("default", "api"));
        server.Delete<V1EndpointSlice>("default", "web-1");
        server.Upsert(KubeObjects.ReadySlice("default", "api", "api-1", "192.0.2.20"));
        await AssertConvergedAsync(run.Sink, server);
        server.SendBookmarks();
        await Eventually.TrueAsync(
            () => run.Observer.WatchEvents(KubernetesSource.ServicesSource, WatchEventType.Bookmark) == 1, Converge, () => "bookmark seen");
        Assert.Equal(0, run.Observer.Errors(KubernetesSource.ServicesSource));
    }

    /// <summary>Waits until each resource has a watch open, so a test's misbehaviour hits live watches.</summary>
    private static Task WatchesOpenAsync(FakeApiServer server, params FakeResource[] resources) =>
        Eventually.TrueAsync(
            () => resources.All(r => server.OpenWatches(r) >= 1),
            Converge,
            () => "watches open for " + string.Join(", ", resources.Where(r => server.OpenWatches(r) >= 1).Select(r => r.Kind)));

    private static async Task AssertConvergedAsync(RecordingChangeSink sink, FakeApiServer server)
    {
        await SinkConvergence.WaitAsync(sink, server, ServicesKind, FakeResource.Services, Converge);
        await SinkConvergence.WaitAsync(sink, server, EndpointSlicesKind, FakeResource.EndpointSlices, Converge);
        Assert.Empty(sink.Violations);
    }
}
