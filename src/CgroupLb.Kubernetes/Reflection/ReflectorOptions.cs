namespace CgroupLb.Kubernetes.Reflection;

/// <summary>Timing and paging of a list/watch reflector. Defaults suit a production cluster; tests shrink them.</summary>
public sealed record ReflectorOptions
{
    /// <summary>Objects per list page (the <c>limit</c> parameter); large clusters are listed in pages of this size.</summary>
    public int ListPageSize { get; init; } = 500;

    /// <summary>
    /// The watchdog: a watch with no event for this long (bookmarks count) is presumed dead and reopened. A half-open
    /// TCP connection otherwise looks exactly like a quiet cluster, forever.
    /// </summary>
    public TimeSpan WatchQuietTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Asked of the server as the watch's timeoutSeconds, scaled by a random factor in [1, 2) so that watches of many
    /// agents do not end together.
    /// </summary>
    public TimeSpan WatchServerTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A list page with no complete answer after this long is abandoned, counted as a list failure and retried after the
    /// backoff. The API server ends any non-watch request after its <c>--request-timeout</c> (1 min by default), so a
    /// page still open past that is a dead connection or a stuck proxy; without a limit the reflector would wait on it
    /// forever and never reach its watch again. (The fake API server's tests met exactly that: about one list in
    /// several hundred, right after a watch ended with 410, had its response written by the server and never
    /// completed in the client.)
    /// </summary>
    public TimeSpan ListPageTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan BackoffInitial { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Each backoff delay is scaled by 1 +/- this fraction.</summary>
    public double BackoffJitter { get; init; } = 0.2;

    public void Validate()
    {
        if (ListPageSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ListPageSize), ListPageSize, "must be at least 1");
        }

        RequirePositive(WatchQuietTimeout, nameof(WatchQuietTimeout));
        RequirePositive(ListPageTimeout, nameof(ListPageTimeout));
        RequirePositive(BackoffInitial, nameof(BackoffInitial));
        if (WatchServerTimeout < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(WatchServerTimeout), WatchServerTimeout, "must be at least 1 s (the API takes whole seconds)");
        }

        if (BackoffMax < BackoffInitial)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffMax), BackoffMax, $"must not be below {nameof(BackoffInitial)} ({BackoffInitial})");
        }

        if (BackoffJitter is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffJitter), BackoffJitter, "must be in [0, 1)");
        }
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, "must be positive");
        }
    }
}
