namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// Decides which of one reflector's failures earn a Warning line. While the API server is down every retry fails the
/// same way, several times a second at first, and three reflectors do it at once: one line for a new failure, then at
/// most one per <c>interval</c> for a failure that keeps repeating (with the number of repeats left out in between)
/// says the same without burying every other log line. Not thread-safe: a reflector fails on its own task only.
/// </summary>
internal sealed class FailureLogThrottle
{
    private readonly TimeSpan interval;
    private readonly TimeProvider time;
    private string? lastLogged;
    private long lastLoggedAt;
    private int notLoggedSinceLastLine;
    private int failuresSinceSuccess;
    private int notLoggedSinceSuccess;

    public FailureLogThrottle(TimeSpan interval, TimeProvider time)
    {
        this.interval = interval;
        this.time = time;
    }

    /// <summary>Records a failure, identified by <paramref name="failure"/> (its kind and message).</summary>
    /// <param name="notLogged">When the failure is to be logged: how many failures since the previous line were not.</param>
    /// <returns>Whether to log it: it differs from the last logged failure, or that one was logged an interval ago.</returns>
    public bool ShouldLog(string failure, out int notLogged)
    {
        failuresSinceSuccess++;
        if (failure == lastLogged && time.GetElapsedTime(lastLoggedAt) < interval)
        {
            notLoggedSinceLastLine++;
            notLoggedSinceSuccess++;
            notLogged = 0;
            return false;
        }

        notLogged = notLoggedSinceLastLine;
        notLoggedSinceLastLine = 0;
        lastLogged = failure;
        lastLoggedAt = time.GetTimestamp();
        return true;
    }

    /// <summary>
    /// Records a success and forgets the failures. Returns how many there were when some of them went unlogged, so
    /// the log can say the outage is over; otherwise 0 (each failure is in the log already).
    /// </summary>
    public int Recovered(out int notLogged)
    {
        var failures = notLoggedSinceSuccess > 0 ? failuresSinceSuccess : 0;
        notLogged = notLoggedSinceSuccess;
        failuresSinceSuccess = 0;
        notLoggedSinceSuccess = 0;
        notLoggedSinceLastLine = 0;
        lastLogged = null;
        return failures;
    }
}
