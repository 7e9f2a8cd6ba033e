using System.Collections.Immutable;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;

namespace CgroupLb.Model.Changes;

/// <summary>
/// What one checkout of the tracker yields: the services whose load-balancing state may differ since the previous
/// checkout, whether this node's topology changed (<see cref="NodeChanged"/>, which may affect every service), whether
/// the set of all Nodes' addresses changed (<see cref="NodeAddressesChanged"/>), and the state after the changes.
/// A service whose held state flipped is listed in <see cref="Services"/> too.
/// </summary>
public sealed record ClusterChanges(IReadOnlySet<ServiceName> Services, bool NodeChanged, ClusterState State)
{
    /// <summary>
    /// Services a source holds at this checkout (<see cref="IClusterChangeSink.OnServiceHeld"/>): whatever the maps
    /// hold for them must stay as it is, whatever <see cref="State"/> says.
    /// </summary>
    public IReadOnlySet<ServiceName> HeldServices { get; init; } = ImmutableHashSet<ServiceName>.Empty;

    /// <summary>
    /// The <see cref="Kubernetes.ChangeTriggerTime"/> of each EndpointSlice change in this checkout that happened after
    /// the tracker started, oldest first: the syncer reports them once the maps are written (network programming latency).
    /// </summary>
    public ImmutableArray<DateTimeOffset> ChangeTriggerTimes { get; init; } = [];

    /// <summary>
    /// Whether <see cref="ClusterState.NodeAddresses"/> differs from the previous checkout's: the NodePort address set
    /// must be rewritten. No frontend depends on it, so it asks for no full translation (unlike <see cref="NodeChanged"/>).
    /// </summary>
    public bool NodeAddressesChanged { get; init; }

    public bool IsEmpty => Services.Count == 0 && !NodeChanged && !NodeAddressesChanged;
}
