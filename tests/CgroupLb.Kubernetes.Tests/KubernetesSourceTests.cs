using System.Diagnostics;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Testing;
using CgroupLb.Testing.FakeApi;
using k8s;
using k8s.Models;
using static CgroupLb.Kubernetes.Tests.RecordingChangeSink;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// The source against the fake API server, end to end through KubernetesClient: every scenario ends with the sink's
/// view equal to the server's store, and checks that only real changes were reported on the way there.
/// </summary>
public sealed class KubernetesSourceTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);

    [Fact(Timeout = 60_000)]
    public async Task CreatesUpdatesAndDeletesReachTheSink()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        server.Upsert(KubeObjects.HttpService("default", "db", 5432));
        server.Upsert(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.10"));
        server.Upsert(KubeObjects.ReadySlice("default", "db", "db-1", "192.0.2.20"));
        server.Upsert(KubeObjects.Node("node-a", "zone-a"));
        server.Upsert(KubeObjects.Node("node-b", "zone-a"));
        await using var run = SourceRun.Start(server.Host, nodeName: "node-a");
        await run.WaitSyncedAsync(Converge);
        await AssertConvergedAsync(run.Sink, server);
        // Every Node is watched (NodePort needs every node's addresses), not only this one.
        Assert.Equal(["node-a", "node-b"], run.Sink.Versions(NodeKind).Keys.Order());

        var mark = run.Sink.Count;
        server.Upsert(KubeObjects.HttpService("other", "api", 443));
        server.Upsert(KubeObjects.HttpService("default", "web", 8080));
        server.Delete<V1Service>("default", "db");
        server.Upsert(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.10", "192.0.2.11"));
        server.Delete<V1EndpointSlice>("default", "db-1");
        server.Upsert(KubeObjects.Node("node-b", zone: "zone-b"));
        server.Delete<V1Node>(null, "node-b");
        server.Upsert(KubeObjects.Node("node-c", zone: "zone-b"));
        server.Upsert(KubeObjects.Node("node-a", zone: "zone-c"));
        await AssertConvergedAsync(run.Sink, server);
        await Eventually.TrueAsync(
            () => run.Sink.EntriesSince(mark).Any(e => e.Kind == NodeKind && e.Key == "node-a"), Converge, () => "node-a update reported");

        // The node events arrive in the order the server wrote them, on one watch.
        Assert.Equal(
            [("node-b", ChangeType.Updated), ("node-b", ChangeType.Deleted), ("node-c", ChangeType.Created), ("node-a", ChangeType.Updated)],
            run.Sink.EntriesSince(mark).Where(e => e.Kind == NodeKind).Select(e => (e.Key, e.Type)));
        var changes = run.Sink.EntriesSince(mark).Select(e => (e.Kind, e.Key, e.Type)).ToList();
        Assert.Equal(
            [
                (EndpointSlicesKind, "default/db-1", ChangeType.Deleted),
                (EndpointSlicesKind, "default/web-1", ChangeType.Updated),
                (NodeKind, "node-a", ChangeType.Updated),
                (NodeKind, "node-b", ChangeType.Updated),
                (NodeKind, "node-b", ChangeType.Deleted),
                (NodeKind, "node-c", ChangeType.Created),
                (ServicesKind, "default/db", ChangeType.Deleted),
                (ServicesKind, "default/web", ChangeType.Updated),
                (ServicesKind, "other/api", ChangeType.Created),
            ],
            changes.Order());
        var web = (V1Service)run.Sink.Get(ServicesKind, "default/web")!;
        Assert.Equal(8080, web.Spec.Ports.Single().Port);
        var node = (V1Node)run.Sink.Get(NodeKind, "node-a")!;
        Assert.Equal("zone-c", node.Metadata.Labels["topology.kubernetes.io/zone"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task WatchExpiringMidStreamRelistsAndReportsOnlyTheDifference()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        for (var i = 0; i < 50; i++)
        {
            server.Upsert(KubeObjects.HttpService("default", $"svc-{i:D2}"));
            server.Upsert(KubeObjects.ReadySlice("default", $"svc-{i:D2}", $"svc-{i:D2}-a", "192.0.2.1"));
        }

        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);

        // The open watches miss what follows, then learn they are too far behind: the apiserver's watch-cache-lag case.
        server.StallWatches();
        var mark = run.Sink.Count;
        var (modified, deleted, added) = MutateServices(server);
        server.CompactHistory();
        server.ExpireWatches();
        await AssertConvergedAsync(run.Sink, server);
        // Converged slices prove nothing (none changed), and the sink hears a relist's changes before the observer
        // hears of the relist: wait for both relists themselves.
        await Eventually.TrueAsync(
            () => run.Observer.Relists(KubernetesSource.ServicesSource).Count == 2 && run.Observer.Relists(KubernetesSource.EndpointSlicesSource).Count == 2,
            Converge,
            () => "both kinds relisted after the expiry: " + run.Observer.Describe());

        var changes = run.Sink.EntriesSince(mark);
        Assert.Equal(modified.Order(), changes.Where(e => e.Type == ChangeType.Updated).Select(e => e.Key).Order());
        Assert.Equal(deleted.Order(), changes.Where(e => e.Type == ChangeType.Deleted).Select(e => e.Key).Order());
        Assert.Equal(added.Order(), changes.Where(e => e.Type == ChangeType.Created).Select(e => e.Key).Order());
        Assert.All(changes, e => Assert.Equal(ServicesKind, e.Kind));
        Assert.True(run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Expired) >= 1);
        Assert.Equal([(50, 50), (51, 12)], run.Observer.Relists(KubernetesSource.ServicesSource));
        Assert.Equal([(50, 50), (50, 0)], run.Observer.Relists(KubernetesSource.EndpointSlicesSource));
    }

    [Fact(Timeout = 60_000)]
    public async Task HttpGoneOnWatchOpenRelistsAndReportsOnlyTheDifference()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.ExpiredWatchResponse = ExpiredWatchResponse.HttpGone;
        for (var i = 0; i < 50; i++)
        {
            server.Upsert(KubeObjects.HttpService("default", $"svc-{i:D2}"));
        }

        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);
        server.StallWatches();
        var mark = run.Sink.Count;
        var (modified, deleted, added) = MutateServices(server);
        server.CompactHistory();
        server.DropAllWatches();
        await AssertConvergedAsync(run.Sink, server);

        var changes = run.Sink.EntriesSince(mark);
        Assert.Equal(modified.Length + deleted.Length + added.Length, changes.Count);
        Assert.True(run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.WatchExpired) >= 1);
        Assert.Equal(2, run.Observer.Relists(KubernetesSource.ServicesSource).Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerGoneForAWhileAndBackConvergesWithoutRereportingUnchangedObjects()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        for (var i = 0; i < 30; i++)
        {
            server.Upsert(KubeObjects.HttpService("default", $"svc-{i:D2}"));
        }

        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        var mark = run.Sink.Count;

        await server.StopAsync();
        var (modified, deleted, added) = MutateServices(server);
        server.CompactHistory();
        await Eventually.TrueAsync(
            () => run.Observer.Errors(KubernetesSource.ServicesSource) >= 2, Converge, () => "reflector retrying while the server is gone");
        await Task.Delay(500);
        await server.StartAsync();
        await AssertConvergedAsync(run.Sink, server);

        var changes = run.Sink.EntriesSince(mark);
        var changedKeys = modified.Concat(deleted).Concat(added).ToHashSet();
        Assert.Equal(changedKeys.Count, changes.Count);
        Assert.All(changes, e => Assert.Contains(e.Key, changedKeys));
        Assert.Equal(2, run.Observer.Relists(KubernetesSource.ServicesSource).Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task ServerBackWithHistoryResumesTheWatchWithoutRelisting()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        for (var i = 0; i < 30; i++)
        {
            server.Upsert(KubeObjects.HttpService("default", $"svc-{i:D2}"));
        }

        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        var mark = run.Sink.Count;

        await server.StopAsync();
        var (modified, deleted, added) = MutateServices(server);
        await Task.Delay(500);
        await server.StartAsync();
        await AssertConvergedAsync(run.Sink, server);

        Assert.Equal(modified.Length + deleted.Length + added.Length, run.Sink.EntriesSince(mark).Count);
        Assert.Single(run.Observer.Relists(KubernetesSource.ServicesSource));
        Assert.Equal(1, server.ListRequests(FakeResource.Services));
    }

    [Fact(Timeout = 120_000)]
    public async Task ThousandsOfObjectsArePagedAndConverge()
    {
        const int count = 3000;
        await using var server = await FakeApiServer.StartNewAsync();
        for (var i = 0; i < count; i++)
        {
            var ns = $"ns-{i % 20}";
            var ip = $"198.18.{i / 250}.{(i % 250) + 1}";
            server.Upsert(KubeObjects.HttpService(ns, $"svc-{i}", clusterIp: ip));
            server.Upsert(KubeObjects.ReadySlice(ns, $"svc-{i}", $"svc-{i}-abc", $"192.0.2.{(i % 250) + 1}"));
        }

        var clock = Stopwatch.StartNew();
        await using var run = SourceRun.Start(server.Host, reflector: SourceRun.FastOptions with { ListPageSize = 500 });
        await run.WaitSyncedAsync(TimeSpan.FromSeconds(60));
        await AssertConvergedAsync(run.Sink, server, TimeSpan.FromSeconds(60));
        var synced = clock.Elapsed;

        Assert.True(server.ListRequests(FakeResource.Services) >= count / 500, "services were listed in pages");
        Assert.True(server.ListRequests(FakeResource.EndpointSlices) >= count / 500, "slices were listed in pages");
        Assert.Equal(2 * count, run.Sink.EntriesSince().Count(e => e.Type == ChangeType.Created));
        Assert.True(synced < TimeSpan.FromSeconds(30), $"initial sync of {2 * count} objects took {synced}");

        // After the big list, changes still flow through the watch.
        server.Upsert(KubeObjects.HttpService("ns-1", "svc-1", port: 81, clusterIp: "198.18.0.2"));
        await AssertConvergedAsync(run.Sink, server);
    }

    [Fact(Timeout = 60_000)]
    public async Task AgentStartedBeforeTheServerKeepsRetryingThenSyncs()
    {
        await using var server = FakeApiServer.CreateStopped();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        server.Upsert(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.10"));
        server.Upsert(KubeObjects.Node("node-a", "zone-a"));

        await using var run = SourceRun.Start(server.Host, nodeName: "node-a");
        await Eventually.TrueAsync(
            () => run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.List) >= 3, Converge, () => "list retries");
        Assert.Equal(0, run.Sink.Count);

        await server.StartAsync();
        await run.WaitSyncedAsync(Converge);
        await AssertConvergedAsync(run.Sink, server);
    }

    [Fact(Timeout = 60_000)]
    public async Task WatchdogReopensAWatchThatWentQuiet()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        await using var run = SourceRun.Start(server.Host, reflector: SourceRun.FastOptions with { WatchQuietTimeout = TimeSpan.FromSeconds(1) });
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);

        // A half-dead connection: open, but nothing will ever arrive on it. Only the watchdog can notice.
        server.StallWatches();
        server.Upsert(KubeObjects.HttpService("default", "api"));
        var elapsed = await AssertConvergedAsync(run.Sink, server);

        Assert.True(run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Quiet) >= 1);
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"took {elapsed}");
        Assert.Single(run.Observer.Relists(KubernetesSource.ServicesSource));
    }

    [Fact(Timeout = 60_000)]
    public async Task OnSyncedComesOncePerKindAfterItsFirstCompleteList()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        for (var i = 0; i < 25; i++)
        {
            server.Upsert(KubeObjects.HttpService("default", $"svc-{i:D2}"));
            server.Upsert(KubeObjects.ReadySlice("default", $"svc-{i:D2}", $"svc-{i:D2}-a", "192.0.2.1"));
        }

        server.Upsert(KubeObjects.Node("node-a", "zone-a"));
        server.FailNextLists(FakeResource.Services, 3);
        await using var run = SourceRun.Start(server.Host, nodeName: "node-a", reflector: SourceRun.FastOptions with { ListPageSize = 10 });

        await Eventually.TrueAsync(() => run.Sink.IsSynced(KubernetesSource.EndpointSlicesSource), Converge, () => "slices synced");
        await run.WaitSyncedAsync(Converge);
        Assert.Equal(3, run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.List));

        var entries = run.Sink.EntriesSince();
        foreach (var (kind, total) in new[] { (ServicesKind, 25), (EndpointSlicesKind, 25), (NodeKind, 1) })
        {
            var syncedAt = entries.ToList().FindIndex(e => e.Kind == SyncedKind && e.Key == kind);
            Assert.Equal(total, entries.Take(syncedAt).Count(e => e.Kind == kind && e.Type == ChangeType.Created));
        }

        // A later relist neither re-reports the objects nor says "synced" again.
        await WatchesOpenAsync(server, FakeResource.All.ToArray());
        server.CompactHistory();
        server.ExpireWatches();
        await Eventually.TrueAsync(
            () => run.Observer.Relists(KubernetesSource.ServicesSource).Count == 2 && run.Observer.Relists(KubernetesSource.NodeSource).Count == 2,
            Converge, () => "relisted after expiry: " + run.Observer.Describe());
        Assert.Equal(entries.Count, run.Sink.Count);
        Assert.Equal(3, run.Sink.EntriesSince().Count(e => e.Type == ChangeType.Synced));
    }

    [Fact(Timeout = 60_000)]
    public async Task BookmarksAdvanceTheResourceVersionSoADroppedWatchResumesWithoutRelisting()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);

        // Slices move the global resourceVersion far past anything the services watch has seen.
        for (var i = 0; i < 20; i++)
        {
            server.Upsert(KubeObjects.ReadySlice("default", "web", $"web-{i}", "192.0.2.1"));
        }

        await AssertConvergedAsync(run.Sink, server);
        var bookmarkVersion = server.SendBookmarks();
        await Eventually.TrueAsync(
            () => run.Observer.WatchEvents(KubernetesSource.ServicesSource, WatchEventType.Bookmark) == 1, Converge, () => "bookmark seen");

        // Without the bookmark the services watch would resume from before the slices and hit 410.
        var watchesBefore = server.WatchRequests(FakeResource.Services).Count;
        server.CompactHistory();
        server.DropAllWatches();
        await Eventually.TrueAsync(
            () => server.WatchRequests(FakeResource.Services).Count > watchesBefore && server.OpenWatches(FakeResource.Services) == 1,
            Converge, () => "services watch reopened");

        Assert.Equal(bookmarkVersion.ToString(), server.WatchRequests(FakeResource.Services)[watchesBefore].ResourceVersion);
        Assert.Single(run.Observer.Relists(KubernetesSource.ServicesSource));
        Assert.Equal(0, run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Expired));

        var mark = run.Sink.Count;
        server.Upsert(KubeObjects.HttpService("default", "api"));
        await AssertConvergedAsync(run.Sink, server);
        Assert.Single(run.Sink.EntriesSince(mark));
    }

    [Fact(Timeout = 60_000)]
    public async Task UndecodableWatchLineTriggersARelist()
    {
        const string garbage = "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Service\",\"metadata\":";
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        await using var run = SourceRun.Start(server.Host);
        await run.WaitSyncedAsync(Converge);
        await WatchesOpenAsync(server, FakeResource.Services, FakeResource.EndpointSlices);

        // As the first line of a watch, garbage breaks KubernetesClient's open call itself.
        var watchesBefore = server.WatchRequests(FakeResource.Services).Count;
        server.InjectWatchLine(FakeResource.Services, garbage);
        await Eventually.TrueAsync(
            () => run.Observer.Relists(KubernetesSource.ServicesSource).Count == 2, Converge, () => "relisted after garbage: " + run.Observer.Describe());
        await Eventually.TrueAsync(
            () => server.WatchRequests(FakeResource.Services).Count > watchesBefore, Converge, () => "services watch reopened");

        // After a good event, KubernetesClient reports garbage through onError and would read on past it.
        server.Upsert(KubeObjects.HttpService("default", "api"));
        await AssertConvergedAsync(run.Sink, server);
        server.InjectWatchLine(FakeResource.Services, garbage);
        await Eventually.TrueAsync(
            () => run.Observer.Relists(KubernetesSource.ServicesSource).Count == 3, Converge, () => "relisted after garbage: " + run.Observer.Describe());
        Assert.Equal(2, run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.Decode));
        Assert.Equal(2, run.Observer.Restarts(KubernetesSource.ServicesSource, WatchRestartReason.Desynced));

        server.Upsert(KubeObjects.HttpService("default", "db"));
        await AssertConvergedAsync(run.Sink, server);
    }

    [Fact(Timeout = 60_000)]
    public async Task KubeconfigFileConnectsWithItsCredentials()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        using var kubeconfig = KubeconfigFile.Write(server.Host, token: "test-token-123");

        await using var run = SourceRun.Start(KubernetesClientFactory.Create(kubeconfig.Path));
        await run.WaitSyncedAsync(Converge);
        await AssertConvergedAsync(run.Sink, server);
        Assert.Equal("Bearer test-token-123", server.LastAuthorization);
    }

    /// <summary>Modifies 5, deletes 3 and adds 4 of the svc-NN services in namespace default.</summary>
    private static (string[] Modified, string[] Deleted, string[] Added) MutateServices(FakeApiServer server)
    {
        string[] modified = ["default/svc-01", "default/svc-03", "default/svc-05", "default/svc-07", "default/svc-09"];
        string[] deleted = ["default/svc-02", "default/svc-04", "default/svc-06"];
        string[] added = ["default/new-1", "default/new-2", "default/new-3", "default/new-4"];
        foreach (var key in modified)
        {
            server.Upsert(KubeObjects.HttpService("default", key.Split('/')[1], port: 81));
        }

        foreach (var key in deleted)
        {
            Assert.True(server.Delete<V1Service>("default", key.Split('/')[1]));
        }

        foreach (var key in added)
        {
            server.Upsert(KubeObjects.HttpService("default", key.Split('/')[1]));
        }

        return (modified, deleted, added);
    }

    /// <summary>Waits until each resource has a watch open, so a test's misbehaviour hits live watches.</summary>
    private static Task WatchesOpenAsync(FakeApiServer server, params FakeResource[] resources) =>
        Eventually.TrueAsync(
            () => resources.All(r => server.OpenWatches(r) >= 1),
            Converge,
            () => "watches open for " + string.Join(", ", resources.Where(r => server.OpenWatches(r) >= 1).Select(r => r.Kind)));

    private static async Task<TimeSpan> AssertConvergedAsync(RecordingChangeSink sink, FakeApiServer server, TimeSpan? timeout = null)
    {
        var services = await SinkConvergence.WaitAsync(sink, server, ServicesKind, FakeResource.Services, timeout ?? Converge);
        await SinkConvergence.WaitAsync(sink, server, EndpointSlicesKind, FakeResource.EndpointSlices, timeout ?? Converge);
        Assert.Empty(sink.Violations);
        return services;
    }
}
