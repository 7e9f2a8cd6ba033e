using System.Collections.Immutable;
using System.Diagnostics;
using System.Runtime;
using CgroupLb.Benchmarks.Workload;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// Where one full sync's time goes, which BenchmarkDotNet's means do not say: `--breakdown N [repeats]` writes N
/// Services x 10 endpoints into empty kernel maps `repeats` times and prints, per repeat, the wall time of translate,
/// plan and apply, the apply split by map operation (<see cref="TimedMaps"/>), the process's user and system CPU time
/// and the GC collections during apply. The synthetic cluster and the translator at every N (addresses repeat with
/// other ports beyond the test range, see <see cref="SyntheticCluster.Create"/>); `--write-only` writes the plan of
/// <see cref="LargePlanBenchmarks"/> instead (no translation). A probe for profiling, not a benchmark: read ratios
/// between its rows, and repeat it.
/// </summary>
internal static class FullSyncBreakdown
{
    private const int BackendsPerService = 10;

    /// <param name="periodic">
    /// False (`--sync-only`): leave out the periodic-sync probe after each repeat (verify, diff, read back), whose reads
    /// would otherwise fill a profile of the sync itself.
    /// </param>
    /// <param name="translateThreads">The translator's <see cref="ServiceTranslator.Parallelism"/>; null = its default (one per core, at most 4).</param>
    public static void Run(int services, int repeats, bool preallocate, bool writeOnly, bool periodic, WriteParallelism parallelism, int? translateThreads = null)
    {
        KernelRequirement.Demand(nameof(FullSyncBreakdown));
        using var maps = BenchmarkMaps.Create(
            serviceEntries: Math.Max((uint)(services * (1 + BackendsPerService) * 5 / 4), 262144),
            backendEntries: Math.Max((uint)(services * BackendsPerService * 5 / 4), 131072),
            preallocate);
        var timed = new TimedMaps(maps.Maps);
        var writer = new BpfMapWriter(timed, NullLogger.Instance, parallelism: parallelism);
        var empty = ImmutableDictionary<Frontend, LoadBalancerService>.Empty;

        ClusterState? state = null;
        var translator = translateThreads is { } threads ? new ServiceTranslator("node-a") { Parallelism = threads } : new ServiceTranslator("node-a");
        LoadBalancerService[]? large = null;
        if (!writeOnly)
            state = SyntheticCluster.Create(services, BackendsPerService, BackendsPerService).State([]);
        else
            large = LargePlanBenchmarks.BuildServices(services);

        Console.WriteLine($"full sync of {services} x {BackendsPerService} into empty kernel maps{(preallocate ? " (preallocated)" : "")}, write calls {parallelism.Degree} at once, translation on {translator.Parallelism} cores, {repeats} repeats (the first includes JIT); CPU = this thread's user+sys");
        for (int r = 0; r < repeats; r++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var process = Process.GetCurrentProcess();
            var (user0, sys0) = (process.UserProcessorTime, process.PrivilegedProcessorTime);
            int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
            long allocated = GC.GetAllocatedBytesForCurrentThread();

            TimeSpan jit0 = JitInfo.GetCompilationTime(currentThread: true), jitAll0 = JitInfo.GetCompilationTime();
            long jitted0 = JitInfo.GetCompiledMethodCount(currentThread: true);
            long start = Stopwatch.GetTimestamp();
            var cpu0 = ThreadCpuClock.Now();
            LoadBalancerPlan plan;
            TimeSpan translate = TimeSpan.Zero, planning, translateCpu = TimeSpan.Zero, jitTranslate = TimeSpan.Zero;
            long allocatedByTranslate = 0;
            if (state is not null)
            {
                var desired = translator.Translate(state);
                translate = Stopwatch.GetElapsedTime(start);
                translateCpu = ThreadCpuClock.Now() - cpu0;
                jitTranslate = JitInfo.GetCompilationTime(currentThread: true) - jit0;
                allocatedByTranslate = GC.GetAllocatedBytesForCurrentThread() - allocated;
                long planStart = Stopwatch.GetTimestamp();
                plan = LoadBalancerPlanner.Plan(empty, desired);
                planning = Stopwatch.GetElapsedTime(planStart);
            }
            else
            {
                long planStart = Stopwatch.GetTimestamp();
                plan = new LoadBalancerPlan([.. large!], []);
                planning = Stopwatch.GetElapsedTime(planStart);
            }
            long allocatedBeforeApply = GC.GetAllocatedBytesForCurrentThread();
            TimeSpan jitBeforeApply = JitInfo.GetCompilationTime(currentThread: true);
            timed.Reset();
            var applyCpu0 = ThreadCpuClock.Now();
            long applyStart = Stopwatch.GetTimestamp();
            var result = writer.Apply(plan);
            var apply = Stopwatch.GetElapsedTime(applyStart);
            var applyCpu = ThreadCpuClock.Now() - applyCpu0;
            var planCpu = applyCpu0 - cpu0 - translateCpu;
            var total = Stopwatch.GetElapsedTime(start);
            TimeSpan jitEnd = JitInfo.GetCompilationTime(currentThread: true), jitAllEnd = JitInfo.GetCompilationTime();
            long jitted = JitInfo.GetCompiledMethodCount(currentThread: true) - jitted0;
            process.Refresh();
            var (user, sys) = (process.UserProcessorTime - user0, process.PrivilegedProcessorTime - sys0);
            ApplyExpectation.AllApplied(result, "the initial plan");

            var kernel = TimeSpan.FromTicks(timed.Totals.Values.Sum(t => t.Time.Ticks));
            Console.WriteLine($"repeat {r + 1}: total {Ms(total)}: translate {Ms(translate)}, plan {Ms(planning)}, apply {Ms(apply)} " +
                $"(map calls {Ms(kernel)}, writer's own work {Ms(apply - kernel)}); CPU translate {Ms(translateCpu)} plan {Ms(planCpu)} apply {Ms(applyCpu)}; process CPU user {Ms(user)} sys {Ms(sys)}; " +
                $"GC {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}; " +
                $"allocated {(allocatedBeforeApply - allocated) / 1e6:F1} MB before apply ({allocatedByTranslate / 1e6:F1} MB in translate), {(GC.GetAllocatedBytesForCurrentThread() - allocatedBeforeApply) / 1e6:F1} MB in apply; " +
                $"JIT on this thread translate {Ms(jitTranslate)} plan {Ms(jitBeforeApply - jit0 - jitTranslate)} apply {Ms(jitEnd - jitBeforeApply)} ({jitted} methods), all threads {Ms(jitAllEnd - jitAll0)}");
            foreach (var (operation, (time, entries, calls)) in timed.Totals.OrderByDescending(t => t.Value.Time))
                Console.WriteLine($"    {operation,-40} {Ms(time),10} {entries,8} entries {calls,5} calls");

            if (!periodic)
            {
                // Empty the maps through the writer's own record (no read-back): the upserts are sorted already.
                writer.Apply(new LoadBalancerPlan([], [.. plan.Upserts.Select(u => u.Frontend)]));
                continue;
            }

            // What an idle agent's periodic full sync costs now (verify against the writer's record, full diff against
            // the applied view) against what it cost before (read every frontend back into the model and diff that).
            var appliedView = ImmutableDictionary.CreateRange(plan.Upserts.Select(u => KeyValuePair.Create(u.Frontend, u)));
            var desiredView = plan.Upserts.ToDictionary(u => u.Frontend);
            var verifyCpu0 = ThreadCpuClock.Now();
            long verifyStart = Stopwatch.GetTimestamp();
            bool verified = writer.VerifyApplied();
            var verifyWall = Stopwatch.GetElapsedTime(verifyStart);
            var verifyCpu = ThreadCpuClock.Now() - verifyCpu0;
            var diffCpu0 = ThreadCpuClock.Now();
            bool same = LoadBalancerPlanner.Plan(appliedView, desiredView).IsEmpty;
            var diffCpu = ThreadCpuClock.Now() - diffCpu0;
            var readCpu0 = ThreadCpuClock.Now();
            long readStart = Stopwatch.GetTimestamp();
            var reread = ImmutableDictionary.CreateRange(writer.ReadApplied());
            var readWall = Stopwatch.GetElapsedTime(readStart);
            var readCpu = ThreadCpuClock.Now() - readCpu0;
            if (!verified || !same || reread.Count != appliedView.Count)
                throw new InvalidOperationException($"periodic probe: verified={verified} same={same} reread={reread.Count}");
            Console.WriteLine($"    periodic sync: VerifyApplied {Ms(verifyWall)} wall, {Ms(verifyCpu)} CPU; full diff against the applied view {Ms(diffCpu)} CPU; " +
                $"ReadApplied (the old periodic read) {Ms(readWall)} wall, {Ms(readCpu)} CPU");

            writer.Apply(LoadBalancerPlanner.Plan(writer.ReadApplied(), empty));
        }
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F1} ms";
}
