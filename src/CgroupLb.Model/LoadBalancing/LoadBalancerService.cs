using System.Collections.Immutable;
using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// The desired state of one frontend: where connects to it may go. <see cref="Backends"/> is sorted and
/// free of duplicates; an empty list means connects are refused (kube-proxy's REJECT).
/// <see cref="Name"/> is the display string of the Kubernetes service port it came from ("namespace/name:port"), for
/// logs, status and the names map; <see cref="ServicePort"/> is that port as a typed key, and the only thing that says
/// which Service owns the frontend.
/// </summary>
public sealed record LoadBalancerService(
    Frontend Frontend,
    string Name,
    ServiceFlags Flags,
    ImmutableArray<Backend> Backends,
    uint AffinityTimeoutSeconds = 0)
{
    /// <summary>
    /// The service port this frontend was translated from. Null only for a frontend read back from the maps that no
    /// current object claims (the maps store the display name, not the key); see <see cref="Planning.LoadBalancerPlanner.OwnerOf"/>.
    /// Not part of equality: it says who asked for the state, not what the maps hold.
    /// </summary>
    public ServicePortName? ServicePort { get; init; }

    /// <summary>The Service that owns this frontend, when known (see <see cref="ServicePort"/>).</summary>
    public ServiceName? Owner => ServicePort?.Service;

    public bool Equals(LoadBalancerService? other) =>
        other is not null
        && Frontend.Equals(other.Frontend)
        && Name == other.Name
        && Flags == other.Flags
        && AffinityTimeoutSeconds == other.AffinityTimeoutSeconds
        && Backends.AsSpan().SequenceEqual(other.Backends.AsSpan());

    public override int GetHashCode() => HashCode.Combine(Frontend, Name, Flags, Backends.Length);
}
