using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;

namespace CgroupLb.Model.Changes;

/// <summary>
/// What one checkout of the tracker yields: the services whose load-balancing state may differ since the previous
/// checkout, whether this node's topology changed (which may affect every service), and the state after the changes.
/// </summary>
public sealed record ClusterChanges(IReadOnlySet<ServiceName> Services, bool NodeChanged, ClusterState State)
{
    public bool IsEmpty => Services.Count == 0 && !NodeChanged;
}
