using System.Diagnostics;
using CgroupLb.Benchmarks.Workload;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>
/// `--watch-events N [repeats] [streams]`: <see cref="WatchEventToMapBenchmarks"/>' two cases (decode only, and event to
/// map at N Services) with our watch decoder and with KubernetesClient's typed watch, interleaved in one process (the
/// order alternating per repeat), so a shared machine's load hits both alike. Per event: wall time, the calling
/// thread's CPU time (the in-memory response completes synchronously, so the work runs on that thread) and bytes allocated.
/// </summary>
internal static class WatchEventBreakdown
{
    public static void Run(int services, int repeats, int streams)
    {
        var ours = new WatchEventToMapBenchmarks { Services = services, Typed = false };
        var typed = new WatchEventToMapBenchmarks { Services = services, Typed = true };
        ours.Setup();
        typed.Setup();
        var events = streams * WatchEventToMapBenchmarks.EventsPerStream;
        Console.WriteLine($"watch events at {services} Services, {repeats} repeats of {events} real-shaped EndpointSlice MODIFIED events per case (repeat 1 includes JIT); load {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("repeat | case | decoder | wall us/event | thread CPU us/event | allocated B/event");
        for (var repeat = 1; repeat <= repeats; repeat++)
        {
            var order = repeat % 2 == 1 ? new[] { (ours, "ours"), (typed, "typed") } : new[] { (typed, "typed"), (ours, "ours") };
            foreach (var toMap in new[] { false, true })
            {
                foreach (var (bench, name) in order)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    var allocated = GC.GetAllocatedBytesForCurrentThread();
                    var cpu = ThreadCpuClock.Now();
                    var wall = Stopwatch.StartNew();
                    for (var s = 0; s < streams; s++)
                    {
                        (toMap ? bench.EventToMap() : bench.Decode()).GetAwaiter().GetResult();
                    }

                    wall.Stop();
                    var cpuUs = (ThreadCpuClock.Now() - cpu).TotalMicroseconds / events;
                    var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)events;
                    Console.WriteLine($"{repeat} | {(toMap ? "event to map" : "decode")} | {name} | {wall.Elapsed.TotalMicroseconds / events:F1} | {cpuUs:F1} | {bytes:F0}");
                }
            }
        }

        ours.Cleanup();
        typed.Cleanup();
        Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Trim()}");
    }
}
