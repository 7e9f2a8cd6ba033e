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
    /// The longest time between two full syncs (re-reading the maps and rewriting whatever differs), however many
    /// partial syncs events cause in between: kube-proxy's --sync-period and bounded-frequency runner. A map entry
    /// changed behind the agent's back is repaired within one period even while events never stop. Null disables it.
    /// </summary>
    public TimeSpan? SyncPeriod { get; init; }
}
