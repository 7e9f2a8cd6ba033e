using System.Collections.Immutable;

namespace CgroupLb.Model.Services;

/// <summary>
/// The endpoints a service port may use: <see cref="Cluster"/> for traffic policy Cluster, <see cref="Local"/>
/// (on this node only) for policy Local. <see cref="HasAnyEndpoints"/> tells "no usable endpoints" from "no endpoints".
/// </summary>
public sealed record CategorizedEndpoints(
    ImmutableArray<EndpointInfo> Cluster,
    ImmutableArray<EndpointInfo> Local,
    bool HasAnyEndpoints);
