using System.Net;
using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Model.Tests.Support;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// The bounded-frequency run loop on a fake clock: a full sync (which repairs maps changed behind the agent's back)
/// happens once per sync period even when events never stop, and syncs never start closer than the minimum period.
/// </summary>
public sealed class SyncPeriodTests : IDisposable
{
    private const string Source = "manifests";
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MinPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RealTimeout = TimeSpan.FromSeconds(20);

    private readonly ClusterChangeTracker tracker = new("node-a", [Source]);
    private readonly FakeLoadBalancerWriter writer = new();
    private readonly RecordingObserver observer = new();
    private readonly FakeTimeProvider clock = new();
    private readonly CancellationTokenSource stop = new();
    private readonly LoadBalancerSyncer syncer;
    private readonly DateTimeOffset started;

    public SyncPeriodTests()
    {
        syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer,
            new LoadBalancerSyncerOptions { SyncPeriod = Period, MinSyncInterval = MinPeriod, MapCheckPeriod = TimeSpan.Zero }, observer: observer, time: clock);
        started = clock.GetUtcNow();
        tracker.OnService(null, Service("web", "10.96.0.1", Port("http", 80)));
        tracker.OnService(null, Service("api", "10.96.0.2", Port("http", 80)));
        tracker.OnEndpointSlice(null, Slice("api-1", "api", [SlicePort("http", 8080)], Endpoint("198.18.1.1")));
        tracker.OnSynced(Source);
    }

    private static Frontend Api => new(IPAddress.Parse("10.96.0.2"), 80, L4Protocol.Tcp);

    [Fact]
    public async Task SteadyChurnStillGetsAFullSyncEachPeriodThatRepairsTheMaps()
    {
        Task run = syncer.RunAsync(stop.Token);
        await WaitForSyncs(1);
        Assert.Equal(SyncKind.Full, observer.Results[0].Kind);

        writer.Corrupt(Api); // someone deletes a frontend from the maps
        var endpoints = new List<V1Endpoint>();
        V1EndpointSlice? previous = null;
        var syncs = new List<(TimeSpan At, SyncKind Kind, bool ApiPresent)>();
        for (int i = 1; i <= 65; i++)
        {
            // One pod more every second: events never leave the syncer idle.
            endpoints.Add(Endpoint($"198.18.0.{i}"));
            var slice = Slice("web-1", "web", [SlicePort("http", 8080)], [.. endpoints]);
            tracker.OnEndpointSlice(previous, slice);
            previous = slice;
            int before = observer.Results.Count;
            clock.Advance(MinPeriod);
            await WaitForSyncs(before + 1);
            SyncResult last = observer.Results[^1];
            syncs.Add((clock.GetUtcNow() - started, last.Kind, writer.Maps.ContainsKey(Api)));
        }

        await StopAsync(run);
        string trace = string.Join(", ", syncs.Select(s => $"{s.At.TotalSeconds}s:{s.Kind}:{(s.ApiPresent ? "api" : "-")}"));
        Assert.All(syncs.Where(s => s.At < Period), s => Assert.True(s.Kind == SyncKind.Partial && !s.ApiPresent, trace));
        var full = syncs.Where(s => s.Kind == SyncKind.Full).Select(s => s.At).ToList();
        Assert.True(full.Count == 2, $"expected a full sync at 30 s and at 60 s: {trace}");
        Assert.Equal([Period, 2 * Period], full);
        Assert.All(syncs.Where(s => s.At >= Period), s => Assert.True(s.ApiPresent, trace));
        Assert.Equal(endpoints.Count, writer.Maps[new Frontend(IPAddress.Parse("10.96.0.1"), 80, L4Protocol.Tcp)].Backends.Length);
    }

    [Fact]
    public async Task AnIdleAgentRunsAFullSyncAfterOnePeriodAndNotBefore()
    {
        Task run = syncer.RunAsync(stop.Token);
        await WaitForSyncs(1);
        writer.Corrupt(Api);

        clock.Advance(Period - TimeSpan.FromSeconds(1));
        await Task.Delay(200); // a sync wrongly due would start on the pool now; none may
        Assert.Single(observer.Results);

        clock.Advance(TimeSpan.FromSeconds(1));
        await WaitForSyncs(2);
        await StopAsync(run);
        Assert.Equal(SyncKind.Full, observer.Results[1].Kind);
        Assert.Equal(1, observer.Results[1].FrontendsUpserted);
        Assert.True(writer.Maps.ContainsKey(Api));
    }

    [Fact]
    public async Task APeriodicSyncVerifiesTheMapsAndReadsThemBackOnlyWhenTheyDrifted()
    {
        Task run = syncer.RunAsync(stop.Token);
        await WaitForSyncs(1);
        Assert.True(observer.Results[0].MapsReread);
        Assert.Equal(1, writer.ReadAppliedCalls);

        // Nothing changed anywhere: the periodic full sync compares the maps with what was written and stops there.
        clock.Advance(Period);
        await WaitForSyncs(2);
        Assert.Equal(SyncKind.Full, observer.Results[1].Kind);
        Assert.False(observer.Results[1].MapsReread);
        Assert.Equal(1, writer.VerifyCalls);
        Assert.Equal(1, writer.ReadAppliedCalls);
        Assert.Equal(0, observer.Results[1].FrontendsUpserted);

        // Deleted behind the agent's back just after a periodic sync: repaired by the next one, one period later.
        writer.Corrupt(Api);
        clock.Advance(Period - TimeSpan.FromSeconds(1));
        await Task.Delay(200);
        Assert.Equal(2, observer.Results.Count);
        Assert.False(writer.Maps.ContainsKey(Api));
        clock.Advance(TimeSpan.FromSeconds(1));
        await WaitForSyncs(3);
        await StopAsync(run);
        Assert.True(observer.Results[2].MapsReread);
        Assert.Equal(2, writer.ReadAppliedCalls);
        Assert.Equal(1, observer.Results[2].FrontendsUpserted);
        Assert.True(writer.Maps.ContainsKey(Api));
        Assert.True(writer.VerifyApplied());
    }

    [Fact]
    public async Task WithTheDefaultMapCheckPeriodTheMapsAreCheckedEveryFiveMinutesAndRepairedThen()
    {
        var options = new LoadBalancerSyncerOptions { SyncPeriod = Period, MinSyncInterval = MinPeriod };
        Assert.Equal(TimeSpan.FromMinutes(5), options.MapCheckPeriod);
        var checking = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer, options, observer: observer, time: clock);
        Task run = checking.RunAsync(stop.Token);
        await WaitForSyncs(1);
        writer.Corrupt(Api); // just after the first sync read the maps

        for (int period = 1; period < 10; period++)
        {
            clock.Advance(Period);
            await WaitForSyncs(period + 1);
            SyncResult between = observer.Results[^1];
            Assert.Equal(SyncKind.Full, between.Kind);
            Assert.False(between.MapsReread);
            Assert.Equal(0, writer.VerifyCalls); // the full diff against the applied view only
            Assert.False(writer.Maps.ContainsKey(Api));
        }

        clock.Advance(Period); // 5 min after the last check: this periodic sync checks the maps
        await WaitForSyncs(11);
        await StopAsync(run);
        Assert.Equal(1, writer.VerifyCalls);
        Assert.True(observer.Results[^1].MapsReread);
        Assert.Equal(1, observer.Results[^1].FrontendsUpserted);
        Assert.True(writer.Maps.ContainsKey(Api));
    }

    [Fact]
    public async Task SyncsStartNoCloserThanTheMinimumPeriod()
    {
        Task run = syncer.RunAsync(stop.Token);
        await WaitForSyncs(1);

        tracker.OnService(null, Service("extra", "10.96.0.3", Port("http", 80)));
        clock.Advance(TimeSpan.FromMilliseconds(500));
        await Task.Delay(200);
        Assert.Single(observer.Results);

        clock.Advance(TimeSpan.FromMilliseconds(500));
        await WaitForSyncs(2);
        await StopAsync(run);
        Assert.Equal(SyncKind.Partial, observer.Results[1].Kind);
    }

    private async Task WaitForSyncs(int count)
    {
        using var timeout = new CancellationTokenSource(RealTimeout);
        while (observer.Results.Count < count)
        {
            if (timeout.IsCancellationRequested)
                Assert.Fail($"{observer.Results.Count} syncs after {clock.GetUtcNow() - started} of fake time, expected {count}");
            await Task.Delay(2);
        }
    }

    private async Task StopAsync(Task run)
    {
        stop.Cancel();
        await run.WaitAsync(RealTimeout);
    }

    public void Dispose() => stop.Dispose();

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
