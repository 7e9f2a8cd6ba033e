using System.Runtime.InteropServices;

namespace CgroupLb.Benchmarks.Workload;

/// <summary>getrusage(RUSAGE_THREAD): the calling thread's user + system CPU time, which a busy shared machine inflates far less than wall time.</summary>
internal static partial class ThreadCpuClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicros, SystemSeconds, SystemMicros;
        public long MaxRss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals, Nvcsw, Nivcsw;
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRUsage(int who, out RUsage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>
    /// clock_gettime(CLOCK_THREAD_CPUTIME_ID): the scheduler's own count of the thread's CPU time, exact to the
    /// nanosecond where getrusage may only count ticks (1-4 ms); for timing one short operation.
    /// </summary>
    public static TimeSpan Precise()
    {
        if (ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var t) != 0)
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
    }

    public static TimeSpan Now()
    {
        if (GetRUsage(1 /* RUSAGE_THREAD */, out var u) != 0)
            throw new InvalidOperationException("getrusage(RUSAGE_THREAD) failed");
        return TimeSpan.FromMicroseconds((u.UserSeconds + u.SystemSeconds) * 1_000_000 + u.UserMicros + u.SystemMicros);
    }
}
