namespace CgroupLb.Model.Sync;

public sealed record LoadBalancerSyncerOptions
{
    /// <summary>
    /// Least time between the starts of two syncs, so a burst of events becomes one map update (kube-proxy's
    /// --min-sync-period; the agent's flag of that name sets it). A change after a quiet spell is written at once.
    /// </summary>
    public TimeSpan MinSyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Wait after the first failed sync; doubled per further failure up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan InitialRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest time between two full syncs, however many partial syncs events cause in between: kube-proxy's
    /// --sync-period and bounded-frequency runner. Each one diffs every service against the applied view and compares
    /// every entry of the service and backend maps with what the writer wrote (raw values, no model rebuilt); only
    /// when they differ are the maps read back into the model and the difference rewritten. A map entry changed,
    /// deleted or added behind the agent's back is therefore repaired within one period, even while events never stop.
    /// Null disables it.
    /// </summary>
    public TimeSpan? SyncPeriod { get; init; }
}
