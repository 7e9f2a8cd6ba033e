namespace CgroupLb.Model.Sync;

/// <summary>
/// Hears about every sync, so the agent can keep metrics without the model depending on a metrics library.
/// Called on the syncing thread; implementations must be quick and must not throw.
/// </summary>
public interface ISyncObserver
{
    void OnSyncCompleted(SyncResult result);
}
