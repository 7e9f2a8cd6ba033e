using System.Collections.Immutable;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Sync;

/// <summary>
/// The outcome of one <see cref="LoadBalancerSyncer.SyncOnce"/>: what was written, how long it took, and the error
/// if it failed (after which the next sync is a full one).
/// </summary>
public sealed record SyncResult(
    SyncKind Kind,
    int ServicesChanged,
    int FrontendsUpserted,
    int FrontendsDeleted,
    int BackendsProgrammed,
    TimeSpan Duration,
    Exception? Error)
{
    public bool Succeeded => Error is null;

    /// <summary>
    /// Frontends the writer refused in a sync that otherwise succeeded; they keep what the maps held for them and are
    /// retried by the next syncs. Empty when everything was written.
    /// </summary>
    public ImmutableArray<RefusedFrontend> Refused { get; init; } = [];

    /// <summary>
    /// The change trigger times (<see cref="Changes.ClusterChanges.ChangeTriggerTimes"/>) this successful sync wrote to
    /// the maps, for the network programming latency; empty after a failure (the full resync that follows has none).
    /// </summary>
    public ImmutableArray<DateTimeOffset> ChangeTriggerTimes { get; init; } = [];

    /// <summary>
    /// A full sync that read the maps back (the first, one after a failure or a request, or a periodic one whose
    /// verification found the maps changed behind the agent's back); false for a periodic full sync that found the
    /// maps exactly as written and diffed against the applied view, and for partial syncs.
    /// </summary>
    public bool MapsReread { get; init; }
}
