using BenchmarkDotNet.Running;
using CgroupLb.Benchmarks;
using CgroupLb.Benchmarks.Kernel;
using CgroupLb.Benchmarks.Planning;
using CgroupLb.Benchmarks.Sources;
using CgroupLb.Benchmarks.Sync;

// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --filter '*' [--job short]
// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --breakdown 10000 [repeats] [--prealloc] [--write-only] [--sync-only] [--write-threads N] [--translate-threads N]   (where a full sync's time goes)
// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --applied 10000 [repeats] [events]   (the syncer's bookkeeping around the write, in memory)
// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --event-latency 10000 [events] [--prealloc] [--write-threads N]   (one EndpointSlice change to kernel maps: p50/p99)
// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --initial-list 10000 [repeats] [--typed-lists]   (Kubernetes list to kernel maps)
// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --manifests 10000 [endpoints] [repeats]   (the manifest source's phases)
// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --watch-events 10000 [repeats] [streams]   (watch decode and event to map, ours vs typed, interleaved)
// dotnet run -c Release --project bench/CgroupLb.Benchmarks -- --list-phases 10000 [repeats] [--page 500] [--memory] [--real-shaped]   (Kubernetes list after its bytes arrived)
if (args is ["--manifests", var manifestServices, ..])
{
    ManifestBreakdown.Run(int.Parse(manifestServices), args.Length > 2 ? int.Parse(args[2]) : 10, args.Length > 3 ? int.Parse(args[3]) : 3);
    return;
}
if (args is ["--list-phases", var phased, ..])
{
    int page = Array.IndexOf(args, "--page") is var p and > 0 ? int.Parse(args[p + 1]) : 500;
    ListPhaseBreakdown.Run(int.Parse(phased), args.Length > 2 && int.TryParse(args[2], out int phaseRepeats) ? phaseRepeats : 4, page, args.Contains("--memory"), args.Contains("--real-shaped"));
    return;
}
if (args is ["--watch-events", var watched, ..])
{
    WatchEventBreakdown.Run(int.Parse(watched), args.Length > 2 ? int.Parse(args[2]) : 5, args.Length > 3 ? int.Parse(args[3]) : 25);
    return;
}
if (args is ["--initial-list", var listed, ..])
{
    InitialListBreakdown.Run(int.Parse(listed), args.Length > 2 && int.TryParse(args[2], out int listRepeats) ? listRepeats : 3, args.Contains("--typed-lists"));
    return;
}
if (args is ["--event-latency", var changedAmong, ..])
{
    EventLatencyProbe.Run(int.Parse(changedAmong), args.Length > 2 && int.TryParse(args[2], out int events) ? events : 5000, args.Contains("--prealloc"),
        WriteThreads(args));
    return;
}
if (args is ["--applied", var appliedCount, ..])
{
    AppliedViewProbe.Run(int.Parse(appliedCount), args.Length > 2 ? int.Parse(args[2]) : 4, args.Length > 3 ? int.Parse(args[3]) : 2000);
    return;
}
if (args is ["--breakdown", var count, ..])
{
    FullSyncBreakdown.Run(int.Parse(count), args.Length > 2 && int.TryParse(args[2], out int repeats) ? repeats : 5, args.Contains("--prealloc"), args.Contains("--write-only"),
        periodic: !args.Contains("--sync-only"), WriteThreads(args),
        translateThreads: Array.IndexOf(args, "--translate-threads") is var t and > 0 ? int.Parse(args[t + 1]) : null);
    return;
}

List<Type> benchmarks =
[
    typeof(PlannerBenchmarks),
    typeof(TranslatorBenchmarks),
    typeof(ChangeTrackerBenchmarks),
    typeof(EventToMapBenchmarks),
    typeof(ManifestSourceBenchmarks),
    typeof(KubernetesInitialListBenchmarks),
    typeof(WatchEventToMapBenchmarks),
];
Type[] kernelBenchmarks =
[
    typeof(InitialPlanBenchmarks), typeof(SteadyStateBenchmarks), typeof(EventToKernelMapBenchmarks), typeof(MapWriteBenchmarks), typeof(FullSyncBenchmarks), typeof(LargePlanBenchmarks),
];

if (KernelRequirement.MissingReason() is { } reason)
{
    Console.Error.WriteLine($"Skipping the map writer benchmarks ({string.Join(", ", kernelBenchmarks.Select(t => t.Name))}): {reason}.");
}
else
{
    BenchmarkMaps.RemoveStale();
    benchmarks.AddRange(kernelBenchmarks);
}

BenchmarkSwitcher.FromTypes([.. benchmarks]).Run(args, BenchmarkConfig.Create());

// The writer's steps as the agent writes them (one call per core, at most 4), or `--write-threads N` (N calls of a large
// step at once; 1 = one thread) and `--write-chunk N` (entries per call of a split step).
static CgroupLb.Datapath.Writing.WriteParallelism WriteThreads(string[] args)
{
    var parallelism = Array.IndexOf(args, "--write-threads") is var w and > 0
        ? CgroupLb.Datapath.Writing.WriteParallelism.For(int.Parse(args[w + 1]))
        : CgroupLb.Datapath.Writing.WriteParallelism.Auto;
    return Array.IndexOf(args, "--write-chunk") is var c and > 0 && parallelism.IsParallel
        ? parallelism with { ChunkEntries = int.Parse(args[c + 1]) }
        : parallelism;
}
