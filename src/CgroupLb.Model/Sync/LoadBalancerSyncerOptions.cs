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
    /// --sync-period and bounded-frequency runner. Each one recomputes every service and diffs it against the applied
    /// view (what the writer wrote), rewriting whatever differs; the kernel maps themselves are checked by the full
    /// syncs that <see cref="MapCheckPeriod"/> makes due. Null disables it.
    /// </summary>
    public TimeSpan? SyncPeriod { get; init; }

    /// <summary>
    /// The least time between two checks of the kernel maps by the periodic full sync: the first periodic full sync at
    /// least this long after the last check compares every entry of the service, backend and refusal maps with what the
    /// writer wrote (<see cref="Model.LoadBalancing.ILoadBalancerWriter.VerifyApplied"/>: raw values, no model rebuilt)
    /// and, only when they differ, reads the maps back and rewrites what drifted. An entry deleted, changed or added
    /// behind the agent's back is therefore repaired within MapCheckPeriod plus one sync period (5 min 30 s with the
    /// defaults), even while events never stop. The check reads every entry (about 0.2 s of CPU at 10k
    /// Services x 10 on a 2-vCPU VM), which every 30 s would be most of an idle agent's CPU. Zero: every periodic full
    /// sync checks. The first sync, one after a failure and one asked for by <see cref="LoadBalancerSyncer.RequestFullSync"/>
    /// always read the maps back.
    /// </summary>
    public TimeSpan MapCheckPeriod { get; init; } = TimeSpan.FromMinutes(5);
}
