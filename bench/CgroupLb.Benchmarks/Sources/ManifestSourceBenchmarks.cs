using BenchmarkDotNet.Attributes;
using CgroupLb.Benchmarks.Sync;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Manifests;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>
/// The manifest source on one file of N Services and N EndpointSlices (3-10 endpoints each): the first read through
/// to the maps (parse, validate, track, translate, plan, apply into an in-memory writer), a poll when nothing changed,
/// and an edit of one Service's slice (read only what changed, reconcile).
/// </summary>
[MemoryDiagnoser]
public class ManifestSourceBenchmarks
{
    private SyntheticCluster cluster = SyntheticCluster.Create(1, 1, 1);
    private string directory = "";
    private string file = "";
    private string original = "";
    private string edited = "";
    private bool onEdited;
    private ManifestReader settledReader = new();
    private ManifestReconciler reconciler = new();

    [Params(10000)]
    public int Services { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        cluster = SyntheticCluster.Create(Services, minBackends: 3, maxBackends: 10);
        directory = Directory.CreateTempSubdirectory("cglb-bench-manifests-").FullName;
        file = Path.Join(directory, "services.yaml");
        original = ManifestText.Of(cluster);
        edited = ManifestText.Of(cluster, new HashSet<int> { Services / 2 });
        File.WriteAllText(file, original);

        var programmed = ReadToMaps().GetAwaiter().GetResult();
        if (programmed != Services)
            throw new InvalidOperationException($"workload error: {programmed} frontends programmed, expected {Services}");

        settledReader = new ManifestReader();
        reconciler = new ManifestReconciler();
        var first = settledReader.Read(file);
        if (first.Objects.Count != 2 * Services || first.Errors.Count != 0)
            throw new InvalidOperationException($"workload error: {first.Objects.Count} objects, {first.Errors.Count} errors");
        reconciler.Reconcile(first);
        // Past the window in which a file's stamp is not trusted yet (a same-size rewrite in one timestamp tick).
        Thread.Sleep(TimeSpan.FromSeconds(2.5));
        settledReader.Read(file);
        onEdited = false;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(directory, recursive: true);

    [Benchmark(Description = "Manifests first read to maps (parse, validate, track, sync)")]
    public async Task<int> ReadToMaps()
    {
        var tracker = new ClusterChangeTracker("node-a", [ManifestSource.SourceName]);
        var writer = new InMemoryLoadBalancerWriter();
        var source = new ManifestSource(new ManifestSourceOptions { Path = file, WatchFileSystem = false, PollInterval = TimeSpan.FromHours(1) });
        var sink = new SyncedSink(tracker);
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(sink, stop.Token);
        await sink.Synced;
        var result = new LoadBalancerSyncer(tracker, new ServiceTranslator("node-a"), writer).SyncOnce();
        await stop.CancelAsync();
        await run;
        if (!result.Succeeded) throw new InvalidOperationException("sync failed", result.Error);
        return writer.Count;
    }

    [Benchmark(Description = "Manifests poll, nothing changed")]
    public ManifestReadResult PollUnchanged() => settledReader.Read(file);

    [IterationSetup(Target = nameof(EditOneService))]
    public void WriteEdit()
    {
        onEdited = !onEdited;
        File.WriteAllText(file, onEdited ? edited : original);
    }

    [Benchmark(Description = "Manifests edit of one slice: read changed file, reconcile")]
    [InvocationCount(1)]
    public int EditOneService()
    {
        var result = reconciler.Reconcile(settledReader.Read(file));
        if (result.Changes.Count != 1) throw new InvalidOperationException($"workload error: {result.Changes.Count} changes, expected 1");
        return result.Changes.Count;
    }
}
