using System.Net;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;
using k8s.Models;

namespace CgroupLb.Benchmarks.Workload;

/// <summary>
/// A deterministic cluster of single-port ClusterIP services, each with one IPv4 EndpointSlice, as the API server
/// would send them. Every service has two versions of its slice: <see cref="Slices"/> and <see cref="ChangedSlices"/>,
/// which differs in exactly one endpoint (its last pod replaced by a pod no other slice uses), so flipping a
/// service between the two is a real change at every stage without ever growing the cluster.
/// </summary>
internal sealed class SyntheticCluster
{
    public const string Namespace = "bench";
    public const string PortName = "http";
    public const int ServicePort = 80;
    public const int TargetPort = 8080;

    private SyntheticCluster(V1Service[] services, V1EndpointSlice[] slices, V1EndpointSlice[] changedSlices)
    {
        Services = services;
        Slices = slices;
        ChangedSlices = changedSlices;
    }

    public int ServiceCount => Services.Count;
    public IReadOnlyList<V1Service> Services { get; }
    public IReadOnlyList<V1EndpointSlice> Slices { get; }
    public IReadOnlyList<V1EndpointSlice> ChangedSlices { get; }

    /// <summary>
    /// <paramref name="serviceCount"/> services with between <paramref name="minBackends"/> and
    /// <paramref name="maxBackends"/> ready endpoints each, drawn from a fixed seed so every run sees the same cluster.
    /// Beyond what the test range holds (16384 ClusterIPs, 114688 pod addresses), addresses repeat and ports tell the
    /// objects apart, as on a real cluster where one pod backs several Services: Service i listens on
    /// <see cref="ServicePortOf"/>(i), and each pass over the pod addresses uses the next target port, so every
    /// backend (address and port) stays distinct and 50k Services x 10 endpoints fit.
    /// </summary>
    public static SyntheticCluster Create(int serviceCount, int minBackends, int maxBackends, int seed = 20261127)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minBackends, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBackends, minBackends);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBackends + 1, BenchAddresses.MaxPods);
        var random = new Random(seed);
        int[] backendCounts = Enumerable.Range(0, serviceCount).Select(_ => random.Next(minBackends, maxBackends + 1)).ToArray();

        // Each service takes its pods and, right after them, the spare pod of its changed slice, all from one pass
        // over the pod addresses (one target port), so a slice never mixes two passes.
        int nextPod = 0;
        var services = new V1Service[serviceCount];
        var slices = new V1EndpointSlice[serviceCount];
        var changed = new V1EndpointSlice[serviceCount];
        for (int i = 0; i < serviceCount; i++)
        {
            string name = ServiceNameOf(i);
            services[i] = Service(name, BenchAddresses.ClusterIp(i % BenchAddresses.MaxClusterIps), ServicePortOf(i));
            int needed = backendCounts[i] + 1;
            if (nextPod % BenchAddresses.MaxPods + needed > BenchAddresses.MaxPods)
                nextPod += BenchAddresses.MaxPods - nextPod % BenchAddresses.MaxPods;
            int pass = nextPod / BenchAddresses.MaxPods;
            int first = nextPod % BenchAddresses.MaxPods;
            nextPod += needed;
            var pods = Enumerable.Range(first, backendCounts[i]).Select(BenchAddresses.Pod).ToArray();
            slices[i] = Slice(name, pods, TargetPort + pass, resourceVersion: "1");
            pods[^1] = BenchAddresses.Pod(first + backendCounts[i]);
            changed[i] = Slice(name, pods, TargetPort + pass, resourceVersion: "2");
        }
        return new SyntheticCluster(services, slices, changed);
    }

    /// <summary>The port of service <paramref name="index"/>: <see cref="ServicePort"/> until the ClusterIPs repeat.</summary>
    public static int ServicePortOf(int index) => ServicePort + index / BenchAddresses.MaxClusterIps;

    public static string ServiceNameOf(int index) => $"svc-{index:D5}";

    public static ServiceName ServiceNameAt(int index) => new(Namespace, ServiceNameOf(index));

    /// <summary>
    /// <paramref name="count"/> service indexes spread evenly over the cluster (not the first few, so sorted
    /// structures see changes everywhere, as real churn does).
    /// </summary>
    public IReadOnlyList<int> SpreadIndexes(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, ServiceCount);
        return Enumerable.Range(0, count).Select(k => (int)((long)k * ServiceCount / count)).ToArray();
    }

    /// <summary>The cluster as the tracker would hand it to a sync, with <paramref name="changedServices"/> on their changed slice.</summary>
    public ClusterState State(IEnumerable<int> changedServices)
    {
        var changedSet = changedServices.ToHashSet();
        var slices = Enumerable.Range(0, ServiceCount).Select(i => changedSet.Contains(i) ? ChangedSlices[i] : Slices[i]);
        return ClusterState.FromObjects(Services, slices, new ClusterObjectParser());
    }

    private static V1Service Service(string name, IPAddress clusterIp, int port) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, ResourceVersion = "1" },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = clusterIp.ToString(),
            ClusterIPs = [clusterIp.ToString()],
            Ports = [new V1ServicePort { Name = PortName, Port = port, Protocol = "TCP", TargetPort = TargetPort }],
            SessionAffinity = "None",
            InternalTrafficPolicy = "Cluster",
        },
    };

    private static V1EndpointSlice Slice(string service, IPAddress[] pods, int port, string resourceVersion) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            Name = $"{service}-abcde",
            NamespaceProperty = Namespace,
            ResourceVersion = resourceVersion,
            Labels = new Dictionary<string, string> { [WellKnownLabels.ServiceName] = service },
        },
        AddressType = "IPv4",
        Ports = [new Discoveryv1EndpointPort { Name = PortName, Port = port, Protocol = "TCP" }],
        Endpoints = pods.Select(pod => new V1Endpoint
        {
            Addresses = [pod.ToString()],
            Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false },
            NodeName = "node-a",
            Zone = "zone-a",
        }).ToList(),
    };
}
