using System.Net.Sockets;

namespace CgroupLb.Model.Sync;

public sealed record LoadBalancerSyncerOptions
{
    /// <summary>Least time between the starts of two syncs, so a burst of events becomes one map update.</summary>
    public TimeSpan MinSyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Wait after the first failed sync; doubled per further failure up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan InitialRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When set, a full sync (re-reading the maps) runs after this long without events, repairing anything that
    /// changed the maps behind our back. Null disables it.
    /// </summary>
    public TimeSpan? FullResyncInterval { get; init; }

    /// <summary>Address families the data path programs; frontends of other families stay in the model only.</summary>
    public IReadOnlySet<AddressFamily> SupportedFamilies { get; init; } = new HashSet<AddressFamily> { AddressFamily.InterNetwork };
}
