using System.Diagnostics;

namespace CgroupLb.Datapath.Tracing;

/// <summary>
/// The wall-clock time of CLOCK_MONOTONIC zero, which bpf_ktime_get_ns() counts from. On Linux the runtime's
/// high-resolution timestamp is CLOCK_MONOTONIC too, so one reading of each clock gives the offset.
/// </summary>
internal static class TraceClock
{
    public static DateTimeOffset BootTime(TimeProvider time)
    {
        long timestamp = time.GetTimestamp();
        var now = time.GetUtcNow();
        double seconds = (double)timestamp / time.TimestampFrequency;
        return now - TimeSpan.FromSeconds(seconds);
    }
}
