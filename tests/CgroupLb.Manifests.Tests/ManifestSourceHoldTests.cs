using System.Collections.Immutable;
using System.Net;
using CgroupLb.Model.Changes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.Logging;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// The restart case: a fresh source over a directory whose documents are invalid from the start has no last good
/// state, so it must hold the services they belong to instead of letting the first sync rewrite them without.
/// </summary>
public sealed class ManifestSourceHoldTests : IDisposable
{
    private static readonly TimeSpan NeverPoll = TimeSpan.FromMinutes(10);
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private static ManifestSourceOptions Watching(string path) =>
        new() { Path = path, PollInterval = NeverPoll, Debounce = TimeSpan.FromMilliseconds(50) };

    private static string WebWithSlice(params string[] addresses) =>
        Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", addresses));

    [Fact]
    public async Task SliceInvalidFromTheStartHoldsItsServiceUntilFixed()
    {
        var file = dir.Write("web.yaml", WebWithSlice("198.18.1.2", "198.18.2.999"));
        var sink = new RecordingSink();
        var logger = new ListLogger();
        var source = new ManifestSource(Watching(dir.Path), new ManifestReader(), logger);
        await using var running = Run(sink, source);

        var initial = await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        Assert.Equal(["Held default/web", "Service +web", "Synced manifests"], initial.Select(c => c.ToString()));
        Assert.Contains(
            $"Holding Service default/web: EndpointSlice default/web-1 from {file} doc 1: its document is invalid and there is no last good state; "
            + "the maps keep what they hold for this service until the document is fixed or removed",
            logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message));

        dir.Replace("web.yaml", WebWithSlice("198.18.1.2", "198.18.2.2"));

        var calls = await sink.WaitForAsync(c => c.Any(x => x.Kind == "Released"), "the release");
        Assert.Equal(["EndpointSlice +web-1", "Released default/web"], calls.Skip(3).Select(c => c.ToString()));
        Assert.Equal(["198.18.1.2", "198.18.2.2"], ((V1EndpointSlice)calls[3].Current!).Endpoints.SelectMany(e => e.Addresses));
    }

    [Fact]
    public async Task RemovingTheInvalidDocumentReleasesTheHold()
    {
        dir.Write("web.yaml", WebWithSlice("198.18.2.999"));
        var sink = new RecordingSink();
        await using var running = Run(sink, new ManifestSource(Watching(dir.Path)));
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        dir.Replace("web.yaml", Yaml.Service("web", "198.51.100.10"));

        var calls = await sink.WaitForAsync(c => c.Any(x => x.Kind == "Released"), "the release");
        Assert.Equal(["Held default/web", "Service +web", "Synced manifests", "Released default/web"], calls.Select(c => c.ToString()));
    }

    [Fact]
    public async Task DeletingTheFileOfAnInvalidServiceReleasesTheHold()
    {
        dir.Write("slices.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"));
        var broken = dir.Write("service.yaml", Yaml.Service("web", "198.51.100.999"));
        var sink = new RecordingSink();
        await using var running = Run(sink, new ManifestSource(Watching(dir.Path)));
        await sink.WaitForAsync(c => c.Any(x => x.Kind == "Synced"), "OnSynced");

        File.Delete(broken);

        var calls = await sink.WaitForAsync(c => c.Any(x => x.Kind == "Released"), "the release");
        Assert.Equal(["Held default/web", "EndpointSlice +web-1", "Synced manifests", "Released default/web"], calls.Select(c => c.ToString()));
    }

    [Fact]
    public async Task RestartedAgentKeepsTheAdoptedMapsOfAHeldServiceAndAppliesTheFix()
    {
        // What the previous run wrote while the slice document was still good.
        var web = new Frontend(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp);
        var writer = new DictionaryWriter();
        writer.Maps[web] = new LoadBalancerService(web, "default/web:http", ServiceFlags.ClusterIp,
            [new Backend(IPAddress.Parse("198.18.1.2"), 8080, L4Protocol.Tcp), new Backend(IPAddress.Parse("198.18.2.2"), 8080, L4Protocol.Tcp)]);
        var adopted = writer.Maps[web];
        dir.Write("web.yaml", WebWithSlice("198.18.1.2", "198.18.2.999"));
        var tracker = new ClusterChangeTracker("node-a", [ManifestSource.SourceName]);
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer);
        await using var running = Run(tracker, new ManifestSource(Watching(dir.Path)));
        await WaitUntilAsync(() => tracker.IsSynced, "the source to sync");

        var first = syncer.SyncOnce();

        Assert.Equal(SyncKind.Full, first.Kind);
        Assert.Equal(0, writer.Applies);
        Assert.Same(adopted, writer.Maps[web]);

        dir.Replace("web.yaml", WebWithSlice("198.18.1.2"));
        await WaitUntilAsync(() => tracker.HeldServices.Count == 0, "the hold to be released");
        var fixedUp = syncer.SyncOnce();

        Assert.Equal(SyncKind.Partial, fixedUp.Kind);
        Assert.Equal(["198.18.1.2:8080"], writer.Maps[web].Backends.Select(b => b.ToString()));
    }

    private static RunningSource Run(IClusterChangeSink sink, ManifestSource source) => RunningSource.Start(sink, source);

    private static Task WaitUntilAsync(Func<bool> condition, string what) => RunningSource.WaitUntilAsync(condition, what);

    /// <summary>The maps as a dictionary; only the test thread calls it.</summary>
    private sealed class DictionaryWriter : ILoadBalancerWriter
    {
        public Dictionary<Frontend, LoadBalancerService> Maps { get; } = [];

        public int Applies { get; private set; }

        public IReadOnlyDictionary<Frontend, LoadBalancerService> ReadApplied() => Maps.ToImmutableDictionary();

        public IReadOnlyCollection<Frontend> ReadRefused() => [];

        public ApplyResult Apply(LoadBalancerPlan plan)
        {
            Applies++;
            foreach (var frontend in plan.Deletes)
            {
                Maps.Remove(frontend);
            }

            foreach (var service in plan.Upserts)
            {
                Maps[service.Frontend] = service;
            }

            return ApplyResult.Applied;
        }
    }
}
