using System.Collections.Immutable;
using System.Net;
using CgroupLb.Model.Kubernetes;
using k8s.Models;

namespace CgroupLb.Model.Services;

/// <summary>
/// An immutable snapshot of everything the translator reads: proxied services, their endpoint slices (sorted by
/// slice name), this node (its zone, for topology hints) and every Node's addresses (for NodePort). The tracker hands
/// one out per checkout, so a sync never sees a half-applied event. The tables are persistent maps, not tables the
/// tracker changes in place: the syncer keeps its last full translation's state past the next checkout and compares
/// the next state's tables with it by reference (a new table whenever anything in it changed).
/// </summary>
public sealed record ClusterState(
    PersistentHashMap<ServiceName, ServiceSnapshot> Services,
    PersistentHashMap<ServiceName, ImmutableArray<EndpointSliceInfo>> SlicesByService,
    NodeInfo? LocalNode)
{
    public static readonly ClusterState Empty = new(
        PersistentHashMap<ServiceName, ServiceSnapshot>.Empty,
        PersistentHashMap<ServiceName, ImmutableArray<EndpointSliceInfo>>.Empty,
        null);

    /// <summary>
    /// Every Node's InternalIP and ExternalIP (status.addresses), sorted (IPv4 first, see
    /// <see cref="LoadBalancing.AddressOrder"/>) and distinct: the addresses a NodePort answers on besides this node's own
    /// interfaces. Empty when no Node is known.
    /// </summary>
    public ImmutableArray<IPAddress> NodeAddresses { get; init; } = [];

    public ImmutableArray<EndpointSliceInfo> SlicesOf(ServiceName service) =>
        SlicesByService.TryGetValue(service, out var slices) ? slices : [];

    /// <summary>Builds a state directly from objects, e.g. a set of manifests, with the same rules the tracker applies.</summary>
    public static ClusterState FromObjects(
        IEnumerable<V1Service> services,
        IEnumerable<V1EndpointSlice> slices,
        ClusterObjectParser parser,
        V1Node? localNode = null,
        IEnumerable<V1Node>? nodes = null)
    {
        var serviceMap = PersistentHashMap<ServiceName, ServiceSnapshot>.Empty.ToBuilder();
        foreach (V1Service service in services)
        {
            if (parser.ParseService(service) is { } snapshot) serviceMap[snapshot.Name] = snapshot;
        }
        var sliceMap = PersistentHashMap<ServiceName, ImmutableArray<EndpointSliceInfo>>.Empty.ToBuilder();
        foreach (var group in slices.Select(parser.ParseEndpointSlice).OfType<EndpointSliceInfo>().GroupBy(s => s.Service))
            sliceMap[group.Key] = [.. group.OrderBy(s => s.Name, StringComparer.Ordinal)];
        var allNodes = (nodes ?? []).Append(localNode).OfType<V1Node>();
        return new ClusterState(serviceMap.ToImmutable(), sliceMap.ToImmutable(), localNode is null ? null : ClusterObjectParser.ParseNode(localNode))
        {
            NodeAddresses = SortedDistinct(allNodes.SelectMany(n => ClusterObjectParser.ParseNodeAddresses(n).AsEnumerable())),
        };
    }

    /// <summary>Addresses in <see cref="NodeAddresses"/> order, each once.</summary>
    public static ImmutableArray<IPAddress> SortedDistinct(IEnumerable<IPAddress> addresses)
    {
        var list = addresses.Distinct().ToList();
        list.Sort(LoadBalancing.AddressOrder.Compare);
        return [.. list];
    }
}
