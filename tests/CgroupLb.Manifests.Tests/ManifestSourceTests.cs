using CgroupLb.Testing.Logging;
using CgroupLb.Testing.Time;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// The source against real files. Every wait is bounded; a watcher test sets a poll interval far beyond its
/// timeout, so only a file-system event can make it pass.
/// </summary>
public sealed class ManifestSourceTests : IDisposable
{
    private static readonly TimeSpan NeverPoll = TimeSpan.FromMinutes(10);
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task MissingPathFailsWithAnExceptionNamingIt()
    {
        var missing = dir.File("nope");
        var source = new ManifestSource(new ManifestSourceOptions { Path = missing });
        var sink = new RecordingSink();

        var thrown = await Assert.ThrowsAsync<ManifestPathNotFoundException>(() => source.RunAsync(sink, CancellationToken.None));

        Assert.Equal($"manifest path '{missing}' does not exist (expected a YAML/JSON file or a directory of them)", thrown.Message);
        Assert.Empty(sink.Calls);
    }

    [Fact]
    public async Task FirstReadIsDeliveredCompletelyBeforeOnSyncedWhichComesOnce()
    {
        dir.Write("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", "198.18.1.2")));
        dir.Write("nodes/n.yaml", Yaml.Node("demo-node"));
        var sink = new RecordingSink();
        var clock = new CountingFakeTimeProvider();
        var options = new ManifestSourceOptions { Path = dir.Path, PollInterval = TimeSpan.FromMinutes(1), WatchFileSystem = false };

        await using (var running = Run(sink, new ManifestSource(options, logger: null, time: clock)))
        {
            await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");
            await PollAsync(clock, options, passes: 3); // several polls of unchanged files
        }

        Assert.Equal(
            ["Service +web", "EndpointSlice +web-1", "Node +demo-node", "Synced manifests"],
            sink.Calls.Select(c => c.ToString()));
    }

    [Fact]
    public async Task EditSavedByRenameIsAppliedLiveThroughFileEvents()
    {
        dir.Write("web.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"));
        var sink = new RecordingSink();
        await using var running = Run(sink, new ManifestSourceOptions { Path = dir.Path, PollInterval = NeverPoll, Debounce = TimeSpan.FromMilliseconds(50) });
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        dir.Replace("web.yaml", Yaml.Slice("web-1", "web", "198.18.1.2", "198.18.2.2"));

        var calls = await sink.WaitForAsync(c => c.Count == 3, "the slice update");
        var update = calls[2];
        Assert.Equal("EndpointSlice ~web-1", update.ToString());
        Assert.Equal(["198.18.1.2", "198.18.2.2"], ((V1EndpointSlice)update.Current!).Endpoints.SelectMany(e => e.Addresses));
        AssertReleasedIdentityOf(calls[0].Current!, update.Previous);
    }

    [Fact]
    public async Task EditIsAppliedByPollingAloneWhenThereAreNoFileEvents()
    {
        var path = dir.Write("web.yaml", Yaml.Service("web", "198.51.100.10", port: 80));
        var sink = new RecordingSink();
        await using var running = Run(sink, new ManifestSourceOptions { Path = dir.Path, WatchFileSystem = false, PollInterval = TimeSpan.FromMilliseconds(100) });
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        File.WriteAllText(path, Yaml.Service("web", "198.51.100.10", port: 8443));

        // An in-place write can be polled half-done (an empty file deletes the Service until the next poll), so wait
        // for the outcome rather than for an exact number of calls.
        var calls = await sink.WaitForAsync(c => c.Count >= 3 && c[^1].Current is V1Service, "the service update");
        Assert.Equal(8443, ((V1Service)calls[^1].Current!).Spec.Ports.Single().Port);
    }

    [Fact]
    public async Task DeletedFileDeletesItsObjectsAndNothingElse()
    {
        dir.Write("a.yaml", Yaml.Service("web", "198.51.100.10"));
        var doomed = dir.Write("sub/b.yaml", Yaml.Documents(Yaml.Service("api", "198.51.100.11"), Yaml.Node("n1")));
        var sink = new RecordingSink();
        await using var running = Run(sink, new ManifestSourceOptions { Path = dir.Path, PollInterval = NeverPoll, Debounce = TimeSpan.FromMilliseconds(50) });
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        File.Delete(doomed);

        var calls = await sink.WaitForAsync(c => c.Count == 6, "two deletions");
        Assert.Equal(["Service -api", "Node -n1"], calls.Skip(4).Select(c => c.ToString()));
    }

    [Fact]
    public async Task FileCreatedInANewSubdirectoryIsPickedUp()
    {
        dir.Write("a.yaml", Yaml.Node("n1"));
        var sink = new RecordingSink();
        await using var running = Run(sink, new ManifestSourceOptions { Path = dir.Path, PollInterval = NeverPoll, Debounce = TimeSpan.FromMilliseconds(50) });
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        dir.Write("new/deeper/web.yaml", Yaml.Service("web", "198.51.100.10"));

        await sink.WaitForAsync(c => c.Any(x => x.ToString() == "Service +web"), "the new service");
    }

    [Fact]
    public async Task SingleFilePathIsWatchedThroughRenames()
    {
        var path = dir.Write("web.yaml", Yaml.Service("web", "198.51.100.10"));
        dir.Write("other.yaml", Yaml.Node("not-read"));
        var sink = new RecordingSink();
        await using var running = Run(sink, new ManifestSourceOptions { Path = path, PollInterval = NeverPoll, Debounce = TimeSpan.FromMilliseconds(50) });
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        dir.Replace("web.yaml", Yaml.Service("web", "198.51.100.20"));

        var calls = await sink.WaitForAsync(c => c.Count == 3, "the service update");
        Assert.Equal(["Service +web", "Synced manifests", "Service ~web"], calls.Select(c => c.ToString()));
        Assert.Equal("198.51.100.20", ((V1Service)calls[2].Current!).Spec.ClusterIP);
    }

    [Fact]
    public async Task BadEditKeepsTheLastGoodStateAndReportsTheErrorUntilFixed()
    {
        dir.Write("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", "198.18.1.2")));
        var sink = new RecordingSink();
        var logger = new ListLogger();
        var published = new List<IReadOnlyList<ManifestError>>();
        var clock = new CountingFakeTimeProvider();
        var options = new ManifestSourceOptions { Path = dir.Path, PollInterval = TimeSpan.FromMinutes(1), WatchFileSystem = false };
        var source = new ManifestSource(options, new ManifestReader(ManifestReader.DefaultMaxFileBytes, clock), logger, clock);
        source.ErrorsChanged += errors =>
        {
            lock (published)
            {
                published.Add(errors);
            }
        };
        await using var running = Run(sink, source);
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        dir.Replace("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", "198.18.1.2", "198.18.2.999")));
        await PollAsync(clock, options, passes: 1);
        var expected = $"{dir.File("web.yaml")} doc 1 (EndpointSlice default/web-1): endpoints[1].addresses[0] \"198.18.2.999\" is not an IP address";
        await WaitUntilAsync(() => source.CurrentErrors.Count == 1, "the error to be reported");
        Assert.Equal(expected, source.CurrentErrors.Single().ToString());
        await PollAsync(clock, options, passes: 3); // several more polls: the error must not be logged again, the slice must not be deleted

        Assert.Equal(3, sink.Calls.Count);
        Assert.Equal([$"Manifest error: {expected}"], logger.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.StartsWith("Manifest error")).Select(e => e.Message));
        Assert.Single(logger.Entries, e => e.Message.StartsWith("Keeping last good state of EndpointSlice default/web-1", StringComparison.Ordinal));

        dir.Replace("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", "198.18.1.2", "198.18.2.2")));
        await PollAsync(clock, options, passes: 1);

        var calls = await sink.WaitForAsync(c => c.Count == 4, "the fixed slice");
        Assert.Equal("EndpointSlice ~web-1", calls[3].ToString());
        AssertReleasedIdentityOf(calls[1].Current!, calls[3].Previous);
        await WaitUntilAsync(() => source.CurrentErrors.Count == 0, "the error to clear");
        lock (published)
        {
            Assert.Equal([1, 0], published.Select(p => p.Count));
        }
    }

    [Fact]
    public async Task CancellationEndsTheRunQuietly()
    {
        dir.Write("a.yaml", Yaml.Node("n1"));
        var sink = new RecordingSink();
        using var cancellation = new CancellationTokenSource();
        var source = new ManifestSource(new ManifestSourceOptions { Path = dir.Path, PollInterval = NeverPoll });
        var run = source.RunAsync(sink, cancellation.Token);
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        await cancellation.CancelAsync();

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(run.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task CachedDefinitionWhoseBodyWasReleasedIsReadAgainBeforeItIsDelivered()
    {
        // a.yaml's slice is delivered (then only its identity is kept, also in the reader's cache); 0.yaml's
        // definition of the same slice takes over; once 0.yaml is gone, a.yaml's unchanged, cached definition is the
        // current state again and must arrive with its endpoints, not as the identity left after delivery.
        dir.Write("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"));
        var sink = new RecordingSink();
        var clock = new CountingFakeTimeProvider();
        var options = new ManifestSourceOptions { Path = dir.Path, PollInterval = TimeSpan.FromMinutes(1), WatchFileSystem = false };
        var logger = new ListLogger();
        await using var running = Run(sink, new ManifestSource(options, new ManifestReader(ManifestReader.DefaultMaxFileBytes, clock), logger, clock));
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        await PollAsync(clock, options, passes: 1); // a.yaml was written just now: read once more once its stamp is settled
        dir.Write("0.yaml", Yaml.Slice("web-1", "web", "198.18.9.9"));
        await PollAsync(clock, options, passes: 1);
        File.Delete(dir.File("0.yaml"));
        await PollAsync(clock, options, passes: 2); // a vanished file is believed gone on the second pass

        var calls = await sink.WaitForAsync(c => c.Count == 4, "the takeover and the return");
        Assert.Equal(["EndpointSlice +web-1", "Synced manifests", "EndpointSlice ~web-1", "EndpointSlice ~web-1"], calls.Select(c => c.ToString()));
        Assert.Equal(["198.18.9.9"], ((V1EndpointSlice)calls[2].Current!).Endpoints.SelectMany(e => e.Addresses));
        Assert.Equal(["198.18.1.2"], ((V1EndpointSlice)calls[3].Current!).Endpoints.SelectMany(e => e.Addresses));
        AssertReleasedIdentityOf(calls[2].Current!, calls[3].Previous);
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Error); // read again on purpose, not after a failed pass
    }

    /// <summary>
    /// A previous state is the identity of what was delivered (the source keeps no bodies once delivered), while the
    /// object handed out earlier is left as it was.
    /// </summary>
    private static void AssertReleasedIdentityOf(IKubernetesObject<V1ObjectMeta> delivered, IKubernetesObject<V1ObjectMeta>? previous)
    {
        Assert.NotNull(previous);
        Assert.NotSame(delivered, previous);
        Assert.Equal(delivered.Metadata.Name, previous.Metadata.Name);
        Assert.Equal(delivered.Metadata.NamespaceProperty, previous.Metadata.NamespaceProperty);
        Assert.IsAssignableFrom(delivered.GetType(), previous);
        if (delivered is V1EndpointSlice slice)
        {
            Assert.NotEmpty(slice.Endpoints);
            Assert.Null(((V1EndpointSlice)previous).Endpoints);
        }
    }

    private static RunningSource Run(RecordingSink sink, ManifestSourceOptions options) =>
        Run(sink, new ManifestSource(options));

    private static RunningSource Run(RecordingSink sink, ManifestSource source) => RunningSource.Start(sink, source);

    private static Task WaitUntilAsync(Func<bool> condition, string what) => RunningSource.WaitUntilAsync(condition, what);

    /// <summary>
    /// Runs <paramref name="passes"/> polls on the fake clock and returns once the last one has finished: the source
    /// arms one timer per wait, so a newly armed timer means the previous pass is done and the next wait has begun.
    /// </summary>
    private static async Task PollAsync(CountingFakeTimeProvider clock, ManifestSourceOptions options, int passes)
    {
        await WaitUntilAsync(() => clock.TimersArmed > 0, "the source to wait for its first poll");
        for (var pass = 0; pass < passes; pass++)
        {
            var armed = clock.TimersArmed;
            clock.Advance(options.PollInterval);
            await WaitUntilAsync(() => clock.TimersArmed > armed, "the poll to finish");
        }
    }
}
