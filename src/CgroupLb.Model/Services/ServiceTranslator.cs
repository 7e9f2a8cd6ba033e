using System.Buffers;
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
/// per frontend, i.e. per port and protocol of each address a client on this node may connect to:
/// <list type="bullet">
/// <item>each ClusterIP (<see cref="ServiceFlags.ClusterIp"/>; <see cref="ServiceFlags.LocalOnly"/> with
/// internalTrafficPolicy Local, which keeps only this node's endpoints);</item>
/// <item>the NodePort, as the wildcard address of each family the service has (0.0.0.0 or ::,
/// <see cref="ServiceFlags.NodePort"/>): the data path matches it against the node addresses;</item>
/// <item>each spec.externalIPs address (<see cref="ServiceFlags.ExternalIp"/>) and each
/// status.loadBalancer.ingress IP (<see cref="ServiceFlags.LoadBalancer"/>) except those with ipMode Proxy.</item>
/// </list>
/// Every frontend of a family gets that family's endpoints (EndpointSlices of that addressType); an external or
/// load-balancer address of a family the service has no ClusterIP for is left out, as kube-proxy does. The external
/// kinds use the cluster-wide endpoints whatever externalTrafficPolicy says: that policy filters only traffic that
/// arrives from outside, which a socket load balancer never sees (see <see cref="EndpointCategorizer"/>). Session
/// affinity (flag and timeout) applies to every kind. Which families the node can use is the writer's business (it
/// refuses the others), so the model stays complete.
/// Pure apart from logging: the same state always gives the same result.
/// </summary>
public sealed class ServiceTranslator(string nodeName, ILogger? logger = null)
{
    private readonly ILogger logger = logger ?? NullLogger.Instance;

    public string NodeName { get; } = nodeName;

    /// <summary>
    /// Services from this many on are translated on several cores (<see cref="Parallelism"/>): a first sync of 50k
    /// Services takes 80-110 ms of one core's time, while 10k take about 10 ms, which a second core does not shorten
    /// when the node has none free (bench/README.md, "lb_svc_names preallocated, translation on two cores").
    /// </summary>
    public int ParallelMinimum { get; init; } = 32768;

    /// <summary>Services per unit of parallel work: small enough that a core that starts late still gets a fair share.</summary>
    private const int ServicesPerChunk = 1024;

    /// <summary>
    /// How many cores a full translation of <see cref="ParallelMinimum"/> services or more may use at once, the
    /// calling thread's included: one per core, at most four (as the map writer's large steps). 1 = one thread.
    /// </summary>
    public int Parallelism { get; init; } = Math.Min(Environment.ProcessorCount, 4);

    /// <summary>
    /// The desired state of every proxied service. Each service's frontends depend on nothing but that service and
    /// its slices, so a large state is translated in chunks of the sorted services on several cores; the chunks'
    /// frontends then go into the result in the services' order on the calling thread, so a frontend two services
    /// claim keeps the same owner (the smallest name) and the same warning as a translation on one thread. (Sorted
    /// first, still: translated in the state's hash order, 50k services took as long without the sort as with it.)
    /// </summary>
    public IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(ClusterState state)
    {
        // Every service once, with its snapshot: no set to make the names distinct, no second lookup per name.
        var services = new KeyValuePair<ServiceName, ServiceSnapshot>[state.Services.Count];
        int n = 0;
        foreach (KeyValuePair<ServiceName, ServiceSnapshot> service in state.Services) services[n++] = service;
        Array.Sort(services, static (a, b) => a.Key.CompareTo(b.Key));
        var desired = new Dictionary<Frontend, LoadBalancerService>(n);
        string? zone = ZoneOf(state);
        if (n < ParallelMinimum || Parallelism <= 1)
        {
            var frontends = new List<LoadBalancerService>();
            foreach (KeyValuePair<ServiceName, ServiceSnapshot> service in services)
                AddService(desired, frontends, service.Value, state.SlicesOf(service.Key), zone);
            return desired;
        }

        // The calling thread takes part (Parallel.For runs chunks on it too), so a node whose other cores are busy
        // translates on one thread as before rather than waiting for a pool thread.
        var chunks = new List<LoadBalancerService>[(n + ServicesPerChunk - 1) / ServicesPerChunk];
        Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, chunk =>
        {
            int from = chunk * ServicesPerChunk, to = Math.Min(n, from + ServicesPerChunk);
            var frontends = new List<LoadBalancerService>((to - from) * 2);
            for (int i = from; i < to; i++)
            {
                ImmutableArray<EndpointSliceInfo> slices = state.SlicesOf(services[i].Key);
                foreach (ServicePortInfo port in services[i].Value.Ports)
                    AddFrontends(frontends, port, slices, zone);
            }
            chunks[chunk] = frontends;
        });
        foreach (List<LoadBalancerService> frontends in chunks)
            AddOwned(desired, frontends);
        return desired;
    }

    /// <summary>
    /// The desired state of the given services only (names that are not proxied contribute nothing), for a
    /// partial sync that recomputes only what changed.
    /// </summary>
    public IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(ClusterState state, IEnumerable<ServiceName> services)
    {
        var desired = new Dictionary<Frontend, LoadBalancerService>(services is IReadOnlyCollection<ServiceName> c ? c.Count : 0);
        string? zone = ZoneOf(state);
        var frontends = new List<LoadBalancerService>();
        // Sorted, so when two services claim one frontend (the same external IP, or hand-written manifests) the
        // winner is stable.
        foreach (ServiceName name in services.Distinct().Order())
        {
            if (!state.Services.TryGetValue(name, out ServiceSnapshot? service)) continue;
            AddService(desired, frontends, service, state.SlicesOf(name), zone);
        }
        return desired;
    }

    /// <summary>Adds one service's frontends to <paramref name="desired"/>; a frontend already there keeps its owner.</summary>
    private void AddService(Dictionary<Frontend, LoadBalancerService> desired, List<LoadBalancerService> frontends,
        ServiceSnapshot service, ImmutableArray<EndpointSliceInfo> slices, string? zone)
    {
        frontends.Clear();
        foreach (ServicePortInfo port in service.Ports)
            AddFrontends(frontends, port, slices, zone);
        AddOwned(desired, frontends);
    }

    /// <summary>Adds frontends in their order; one already there keeps its owner.</summary>
    private void AddOwned(Dictionary<Frontend, LoadBalancerService> desired, List<LoadBalancerService> frontends)
    {
        foreach (LoadBalancerService lb in frontends)
        {
            ref LoadBalancerService? owner = ref CollectionsMarshal.GetValueRefOrAddDefault(desired, lb.Frontend, out bool exists);
            if (!exists)
            {
                owner = lb;
                continue;
            }
            // One port listing an address twice (an external IP that is also its ingress IP) is no conflict.
            if (owner!.ServicePort != lb.ServicePort)
                logger.LogWarning("Frontend {Frontend} of {ServicePort} is already used by {Owner}; ignoring it", lb.Frontend, lb.Name, owner.Name);
        }
    }

    /// <summary>
    /// The frontends of one service, each with its backends for that frontend's address family, in kind order
    /// (ClusterIP, NodePort, external IP, load balancer) per port.
    /// </summary>
    /// <param name="zone">This node's topology.kubernetes.io/zone label, for zone hints; null when unknown.</param>
    public IEnumerable<LoadBalancerService> TranslateService(ServiceSnapshot service, IReadOnlyList<EndpointSliceInfo> slices, string? zone = null)
    {
        var frontends = new List<LoadBalancerService>();
        var sliceArray = slices is ImmutableArray<EndpointSliceInfo> array ? array : [.. slices];
        foreach (ServicePortInfo port in service.Ports)
            AddFrontends(frontends, port, sliceArray, zone);
        return frontends;
    }

    private void AddFrontends(List<LoadBalancerService> frontends, ServicePortInfo port, ImmutableArray<EndpointSliceInfo> slices, string? zone)
    {
        ServiceFlags affinity = port.ClientIpAffinity ? ServiceFlags.Affinity : ServiceFlags.None;
        uint timeout = port.ClientIpAffinity ? port.AffinityTimeoutSeconds : 0;
        bool localClusterIp = port.InternalTrafficPolicy == TrafficPolicy.Local;
        ServiceFlags clusterIpFlags = ServiceFlags.ClusterIp | affinity | (localClusterIp ? ServiceFlags.LocalOnly : ServiceFlags.None);
        bool external = port.ExternallyAccessible;

        // Almost every service has one family; the second is computed only for a dual-stack service.
        FamilyBackends v4 = default, v6 = default;
        foreach (IPAddress clusterIp in port.ClusterIPs)
        {
            ref FamilyBackends family = ref clusterIp.AddressFamily == AddressFamily.InterNetworkV6 ? ref v6 : ref v4;
            if (!family.Computed)
                family = BackendsOf(port, clusterIp.AddressFamily, slices, zone, cluster: !localClusterIp || external, local: localClusterIp);
            frontends.Add(NewFrontend(port, clusterIp, port.Port, clusterIpFlags, localClusterIp ? family.Local : family.Cluster, timeout));
        }
        if (!external) return;

        if (port.NodePort != 0)
        {
            if (v4.Computed) frontends.Add(NewFrontend(port, IPAddress.Any, port.NodePort, ServiceFlags.NodePort | affinity, v4.Cluster, timeout));
            if (v6.Computed) frontends.Add(NewFrontend(port, IPAddress.IPv6Any, port.NodePort, ServiceFlags.NodePort | affinity, v6.Cluster, timeout));
        }
        foreach (IPAddress address in port.ExternalIPs)
        {
            FamilyBackends family = address.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : v4;
            if (family.Computed) frontends.Add(NewFrontend(port, address, port.Port, ServiceFlags.ExternalIp | affinity, family.Cluster, timeout));
        }
        foreach (IPAddress address in port.LoadBalancerIngressIPs)
        {
            FamilyBackends family = address.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : v4;
            if (family.Computed) frontends.Add(NewFrontend(port, address, port.Port, ServiceFlags.LoadBalancer | affinity, family.Cluster, timeout));
        }
    }

    private static LoadBalancerService NewFrontend(ServicePortInfo port, IPAddress address, ushort number, ServiceFlags flags, ImmutableArray<Backend> backends, uint timeout) =>
        new(new Frontend(address, number, port.Protocol), port.Label, flags, backends, timeout)
        {
            ServicePort = port.Name,
        };

    // This node's zone, when the state's node is this translator's node.
    private string? ZoneOf(ClusterState state) =>
        state.LocalNode is { } node && node.Name == NodeName ? node.Zone : null;

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
    /// <see cref="EndpointCategorizer.Categorize"/> (the cluster-wide set, the node-local set, or both), sorted and
    /// distinct, computed in one sorted array instead of a dictionary, categorized lists and LINQ passes per
    /// frontend (a full sync translates every frontend). Sorting by address and port puts the copies of one endpoint
    /// next to each other; the slice order breaks ties, so the copy kept is the one the merge keeps (the first with
    /// the highest preference).
    /// </summary>
    private FamilyBackends BackendsOf(ServicePortInfo port, AddressFamily family, ImmutableArray<EndpointSliceInfo> slices, string? zone, bool cluster, bool local)
    {
        // Counted first, so the candidates go into one rented buffer instead of a list grown by doubling per frontend.
        int total = 0;
        foreach (EndpointSliceInfo slice in slices)
        {
            if (slice.Family == family && MatchingPort(slice, port) is not null) total += slice.Endpoints.Count;
        }
        if (total == 0) return new FamilyBackends(true, [], []);

        Candidate[] buffer = ArrayPool<Candidate>.Shared.Rent(total);
        try
        {
            int count = 0;
            foreach (EndpointSliceInfo slice in slices)
            {
                if (slice.Family != family || MatchingPort(slice, port) is not { } matched) continue;
                foreach (SliceEndpoint endpoint in slice.Endpoints)
                {
                    buffer[count] = new Candidate(endpoint, matched.Port, count);
                    count++;
                }
            }
            return Categorize(buffer.AsSpan(0, count), port, zone, cluster, local);
        }
        finally
        {
            // The candidates hold endpoints: cleared, so the pool keeps no model objects alive.
            ArrayPool<Candidate>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>The slice port whose name and protocol are the service port's (the last one, as the API lists them), or null.</summary>
    private static EndpointSlicePort? MatchingPort(EndpointSliceInfo slice, ServicePortInfo port)
    {
        EndpointSlicePort? slicePort = null;
        foreach (EndpointSlicePort candidate in slice.Ports)
        {
            if (candidate.Name == port.Name.Port && candidate.Protocol == port.Protocol) slicePort = candidate;
        }
        return slicePort;
    }

    private FamilyBackends Categorize(Span<Candidate> span, ServicePortInfo port, string? zone, bool cluster, bool local)
    {
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

        ImmutableArray<Backend> clusterBackends = [], localBackends = [];
        if (cluster)
        {
            var scan = new TopologyHintScan(NodeName, zone);
            foreach (ref readonly Candidate c in span) scan.Add(c.Endpoint.Ready, c.Endpoint.NodeHints, c.Endpoint.ZoneHints);
            var scope = new Scope(NodeName, zone, scan.Mode, LocalOnly: false);
            clusterBackends = Select(span, scope, port.Protocol);
        }
        if (local)
            localBackends = Select(span, new Scope(NodeName, zone, TopologyMode.None, LocalOnly: true), port.Protocol);
        return new FamilyBackends(true, clusterBackends, localBackends);
    }

    /// <summary>The candidates of <paramref name="scope"/> that receive traffic, counted first so the array is allocated once.</summary>
    private static ImmutableArray<Backend> Select(ReadOnlySpan<Candidate> span, Scope scope, L4Protocol protocol)
    {
        bool anyReady = false;
        foreach (ref readonly Candidate c in span)
        {
            if (scope.Contains(c.Endpoint)) anyReady |= c.Endpoint.Ready;
        }
        int count = 0;
        foreach (ref readonly Candidate c in span)
        {
            if (scope.Contains(c.Endpoint) && EndpointCategorizer.Receives(c.Endpoint.Ready, c.Endpoint.Serving, c.Endpoint.Terminating, anyReady))
                count++;
        }
        if (count == 0) return [];
        var backends = new Backend[count];
        int n = 0;
        foreach (ref readonly Candidate c in span)
        {
            if (scope.Contains(c.Endpoint) && EndpointCategorizer.Receives(c.Endpoint.Ready, c.Endpoint.Serving, c.Endpoint.Terminating, anyReady))
                backends[n++] = new Backend(c.Endpoint.Address, c.Port, protocol);
        }
        return ImmutableCollectionsMarshal.AsImmutableArray(backends);
    }

    /// <summary>Which endpoints one set may take from: this node's (internalTrafficPolicy Local), or those the topology mode keeps.</summary>
    private readonly record struct Scope(string NodeName, string? Zone, TopologyMode Mode, bool LocalOnly)
    {
        public bool Contains(SliceEndpoint e) => LocalOnly
            ? e.NodeName is { Length: > 0 } && e.NodeName == NodeName
            : TopologyHintScan.Available(Mode, e.NodeHints, e.ZoneHints, NodeName, Zone);
    }

    /// <summary>The two endpoint sets of one family; <see cref="Computed"/> is false for a family the service does not have.</summary>
    private readonly record struct FamilyBackends(bool Computed, ImmutableArray<Backend> Cluster, ImmutableArray<Backend> Local);

    private static int Preference(SliceEndpoint e) => (e.Terminating ? 0 : 2) + (e.Ready ? 1 : 0);

    private readonly record struct Candidate(SliceEndpoint Endpoint, ushort Port, int Order);

    private static int Preference(EndpointInfo e) => (e.Terminating ? 0 : 2) + (e.Ready ? 1 : 0);
}
