using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Model.Services;

/// <summary>
/// Computes the desired load-balancer state from a <see cref="ClusterState"/>: one <see cref="LoadBalancerService"/>
/// per ClusterIP, port and protocol, whatever the address family; each family's frontend gets the endpoints of the
/// EndpointSlices of that addressType. Which families the node can use is the writer's business (it refuses the
/// others), so the model stays complete.
/// Pure apart from logging: the same state always gives the same result.
/// </summary>
public sealed class ServiceTranslator(string nodeName, ILogger? logger = null)
{
    private readonly ILogger logger = logger ?? NullLogger.Instance;

    public string NodeName { get; } = nodeName;

    /// <summary>The desired state of every proxied service.</summary>
    public IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(ClusterState state) =>
        Translate(state, state.Services.Keys);

    /// <summary>
    /// The desired state of the given services only (names that are not proxied contribute nothing), for a
    /// partial sync that recomputes only what changed.
    /// </summary>
    public IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(ClusterState state, IEnumerable<ServiceName> services)
    {
        var desired = new Dictionary<Frontend, LoadBalancerService>(services is IReadOnlyCollection<ServiceName> c ? c.Count : 0);
        // Sorted, so when two services claim one frontend (possible only with hand-written manifests) the winner is stable.
        foreach (ServiceName name in services.Distinct().Order())
        {
            if (!state.Services.TryGetValue(name, out ServiceSnapshot? service)) continue;
            foreach (LoadBalancerService lb in TranslateService(service, state.SlicesOf(name)))
            {
                if (desired.TryGetValue(lb.Frontend, out LoadBalancerService? owner))
                {
                    logger.LogWarning("Frontend {Frontend} of {ServicePort} is already used by {Owner}; ignoring it", lb.Frontend, lb.Name, owner.Name);
                    continue;
                }
                desired.Add(lb.Frontend, lb);
            }
        }
        return desired;
    }

    /// <summary>The frontends of one service, each with its backends for that frontend's address family.</summary>
    public IEnumerable<LoadBalancerService> TranslateService(ServiceSnapshot service, IReadOnlyList<EndpointSliceInfo> slices)
    {
        foreach (ServicePortInfo port in service.Ports)
        {
            ServiceFlags flags = ServiceFlags.ClusterIp;
            if (port.ClientIpAffinity) flags |= ServiceFlags.Affinity;
            if (port.InternalTrafficPolicy == TrafficPolicy.Local) flags |= ServiceFlags.LocalOnly;

            foreach (IPAddress clusterIp in port.ClusterIPs)
            {
                var backends = BackendsOf(port, clusterIp.AddressFamily, slices);
                yield return new LoadBalancerService(
                    new Frontend(clusterIp, port.Port, port.Protocol),
                    port.Name.ToString(),
                    flags,
                    backends,
                    port.ClientIpAffinity ? port.AffinityTimeoutSeconds : 0)
                {
                    ServicePort = port.Name,
                };
            }
        }
    }

    /// <summary>
    /// The endpoints of one service port and family across all of the service's slices. The backend port is the
    /// port of the slice port whose name and protocol match the service port's: the EndpointSlice controller has
    /// already resolved a named targetPort per pod, so two slices may give different ports. An address:port listed
    /// by several slices (an endpoint moving between slices) counts once, preferring the non-terminating, then
    /// the ready copy.
    /// </summary>
    public static IReadOnlyList<EndpointInfo> MergeEndpoints(ServicePortInfo port, AddressFamily family, IEnumerable<EndpointSliceInfo> slices)
    {
        var byAddress = new Dictionary<(IPAddress, ushort), EndpointInfo>();
        foreach (EndpointSliceInfo slice in slices)
        {
            if (slice.Family != family) continue;
            EndpointSlicePort? slicePort = null;
            foreach (EndpointSlicePort candidate in slice.Ports)
            {
                if (candidate.Name == port.Name.Port && candidate.Protocol == port.Protocol) slicePort = candidate;
            }
            if (slicePort is not { } matched) continue;

            foreach (SliceEndpoint endpoint in slice.Endpoints)
            {
                EndpointInfo info = endpoint.WithPort(matched.Port);
                var key = (info.Address, info.Port);
                if (!byAddress.TryGetValue(key, out EndpointInfo? existing) || Preference(info) > Preference(existing))
                    byAddress[key] = info;
            }
        }
        return byAddress.Values
            .OrderBy(e => e.Address, Comparer<IPAddress>.Create(AddressOrder.Compare))
            .ThenBy(e => e.Port)
            .ToList();
    }

    /// <summary>
    /// The backends of one service port and family: <see cref="MergeEndpoints"/> followed by
    /// <see cref="EndpointCategorizer.ForClusterIp"/>, sorted and distinct, computed in one sorted array instead of a
    /// dictionary, two categorized lists and three LINQ passes per frontend (a full sync translates every frontend).
    /// Sorting by address and port puts the copies of one endpoint next to each other; the slice order breaks ties,
    /// so the copy kept is the one the merge keeps (the first with the highest preference).
    /// </summary>
    private ImmutableArray<Backend> BackendsOf(ServicePortInfo port, AddressFamily family, IReadOnlyList<EndpointSliceInfo> slices)
    {
        var candidates = new List<Candidate>();
        foreach (EndpointSliceInfo slice in slices)
        {
            if (slice.Family != family) continue;
            EndpointSlicePort? slicePort = null;
            foreach (EndpointSlicePort candidate in slice.Ports)
            {
                if (candidate.Name == port.Name.Port && candidate.Protocol == port.Protocol) slicePort = candidate;
            }
            if (slicePort is not { } matched) continue;
            foreach (SliceEndpoint endpoint in slice.Endpoints)
                candidates.Add(new Candidate(endpoint, matched.Port, candidates.Count));
        }
        if (candidates.Count == 0) return [];

        var span = CollectionsMarshal.AsSpan(candidates);
        span.Sort(static (a, b) =>
        {
            int c = AddressOrder.Compare(a.Endpoint.Address, b.Endpoint.Address);
            if (c == 0) c = a.Port.CompareTo(b.Port);
            return c != 0 ? c : a.Order.CompareTo(b.Order);
        });
        int kept = 0;
        for (int i = 0; i < span.Length; i++)
        {
            if (kept > 0 && span[kept - 1].Port == span[i].Port && span[kept - 1].Endpoint.Address.Equals(span[i].Endpoint.Address))
            {
                if (Preference(span[i].Endpoint) > Preference(span[kept - 1].Endpoint)) span[kept - 1] = span[i];
                continue;
            }
            span[kept++] = span[i];
        }
        span = span[..kept];

        bool local = port.InternalTrafficPolicy == TrafficPolicy.Local;
        bool anyReady = false;
        int count = 0;
        foreach (ref readonly Candidate c in span)
        {
            if (local && !IsLocal(c.Endpoint)) continue;
            anyReady |= c.Endpoint.Ready;
        }
        foreach (ref readonly Candidate c in span)
        {
            if ((!local || IsLocal(c.Endpoint)) && EndpointCategorizer.Receives(c.Endpoint.Ready, c.Endpoint.Serving, c.Endpoint.Terminating, anyReady))
                count++;
        }
        if (count == 0) return [];
        var backends = new Backend[count];
        int n = 0;
        foreach (ref readonly Candidate c in span)
        {
            if ((!local || IsLocal(c.Endpoint)) && EndpointCategorizer.Receives(c.Endpoint.Ready, c.Endpoint.Serving, c.Endpoint.Terminating, anyReady))
                backends[n++] = new Backend(c.Endpoint.Address, c.Port, port.Protocol);
        }
        return ImmutableCollectionsMarshal.AsImmutableArray(backends);
    }

    private bool IsLocal(SliceEndpoint e) => e.NodeName is { Length: > 0 } && e.NodeName == NodeName;

    private static int Preference(SliceEndpoint e) => (e.Terminating ? 0 : 2) + (e.Ready ? 1 : 0);

    private readonly record struct Candidate(SliceEndpoint Endpoint, ushort Port, int Order);

    private static int Preference(EndpointInfo e) => (e.Terminating ? 0 : 2) + (e.Ready ? 1 : 0);
}
