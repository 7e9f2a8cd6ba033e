using System.Collections.Immutable;

namespace CgroupLb.Model.Services;

/// <summary>
/// The endpoints a service port may use: <see cref="Cluster"/> (cluster-wide, narrowed by topology hints) and
/// <see cref="Local"/> (on this node only, for internalTrafficPolicy Local). <see cref="HasAnyEndpoints"/> tells "no
/// usable endpoints" from "no endpoints".
/// </summary>
public sealed record CategorizedEndpoints(
    ImmutableArray<EndpointInfo> Cluster,
    ImmutableArray<EndpointInfo> Local,
    bool HasAnyEndpoints)
{
    /// <summary>How the hints narrowed <see cref="Cluster"/>.</summary>
    public TopologyMode Topology { get; init; }
}
