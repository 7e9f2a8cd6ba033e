namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// Exponential delay between failed attempts, with jitter so that every agent in a cluster does not hit a
/// recovering API server in the same instant.
/// </summary>
internal sealed class ReconnectBackoff
{
    private readonly TimeSpan initial;
    private readonly TimeSpan max;
    private readonly double jitter;
    private readonly Random random;
    private int failures;

    public ReconnectBackoff(TimeSpan initial, TimeSpan max, double jitter, Random random)
    {
        this.initial = initial;
        this.max = max;
        this.jitter = jitter;
        this.random = random;
    }

    public int Failures => failures;

    /// <summary>The delay before the next attempt: initial * 2^failures, capped at max, then scaled by 1 +/- jitter.</summary>
    public TimeSpan NextDelay()
    {
        var exponential = initial.TotalMilliseconds * Math.Pow(2, failures);
        var capped = Math.Min(exponential, max.TotalMilliseconds);
        if (failures < 62)
        {
            failures++;
        }

        var scale = 1 + (jitter * ((2 * random.NextDouble()) - 1));
        return TimeSpan.FromMilliseconds(capped * scale);
    }

    public void Reset() => failures = 0;
}
