using CgroupLb.Model.Sync;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Once the first complete sync is in the maps, gives the start's garbage back to the system: reading 10k Services
/// from manifests allocates most of a gigabyte that is dead by then, and the GC would otherwise keep those regions
/// committed (the agent's RSS) for as long as it runs, since an idle agent allocates too little to collect again. One
/// aggressive collection (compacting, the large object heap too, decommitting what is free) on a thread-pool thread,
/// after readiness flipped, so it never delays the maps.
/// </summary>
internal sealed class MemoryTrimAfterInitialSync(ISyncObserver next, Action startTrim) : ISyncObserver
{
    private int trimmed;

    public MemoryTrimAfterInitialSync(ISyncObserver next)
        : this(next, static () => ThreadPool.UnsafeQueueUserWorkItem(
            static _ => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true), null))
    {
    }

    public void OnSyncCompleted(SyncResult result)
    {
        next.OnSyncCompleted(result);
        if (!result.Succeeded || result.Kind == SyncKind.NotSynced || Interlocked.Exchange(ref trimmed, 1) == 1)
            return;
        startTrim();
    }
}
