using System.Collections.Immutable;

namespace CgroupLb.Model.Sync;

/// <summary>
/// Hears which backends left which frontends once a sync has written that to the maps, so sockets still connected
/// to them can be closed (the agent's socket termination). Called on the syncing thread, only with a non-empty
/// list; implementations must hand the work off quickly and must not throw.
/// </summary>
public interface IBackendRemovalObserver
{
    void OnBackendsRemoved(ImmutableArray<RemovedBackend> removed);
}
