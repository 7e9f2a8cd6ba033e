using System.Collections.Immutable;

namespace CgroupLb.Model.LoadBalancing;

/// <summary>
/// The desired state of one frontend: where connects to it may go. <see cref="Backends"/> is sorted and
/// free of duplicates; an empty list means connects are refused (kube-proxy's REJECT).
/// <see cref="Name"/> is the Kubernetes service port it came from ("namespace/name:port"), for logs and status.
/// </summary>
public sealed record LoadBalancerService(
    Frontend Frontend,
    string Name,
    ServiceFlags Flags,
    ImmutableArray<Backend> Backends,
    uint AffinityTimeoutSeconds = 0)
{
    public bool Equals(LoadBalancerService? other) =>
        other is not null
        && Frontend.Equals(other.Frontend)
        && Name == other.Name
        && Flags == other.Flags
        && AffinityTimeoutSeconds == other.AffinityTimeoutSeconds
        && Backends.AsSpan().SequenceEqual(other.Backends.AsSpan());

    public override int GetHashCode() => HashCode.Combine(Frontend, Name, Flags, Backends.Length);
}
