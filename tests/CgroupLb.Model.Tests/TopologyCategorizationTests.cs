using System.Net.Sockets;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CsCheck;
using k8s.Models;
using static CgroupLb.Model.Tests.Support.ConnectFlow;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// kube-proxy's categorisation cases (pkg/proxy/topology_test.go, TestCategorizeEndpoints), run twice: through
/// <see cref="EndpointCategorizer"/> (the rule) and through the translator's own allocation-light path (what is
/// programmed), which must agree. The kube-proxy revision in the reference index predates node hints and still gated
/// zone hints on the topology-mode annotation; here the annotation cases expect what kube-proxy does now (hints decide,
/// the annotation is never read), the feature-gate-off cases are left out (ProxyTerminatingEndpoints and
/// TopologyAwareHints are GA), and the node-hint cases follow topologyModeFromHints as kube-proxy 1.33+ has it.
/// A socket LB maps kube-proxy's sets onto frontends this way: the ClusterIP uses the local set under
/// internalTrafficPolicy Local and the cluster set otherwise; the NodePort (and external, load-balancer) frontends use
/// the cluster set whatever externalTrafficPolicy says.
/// </summary>
public class TopologyCategorizationTests
{
    private const string ThisNode = "node-a";

    /// <summary>One endpoint as kube-proxy's tests write it: port 80, its hints, conditions, and whether it runs here.</summary>
    public sealed record Ep(string Ip, string Zones = "", string Nodes = "", bool Ready = true, bool Serving = false, bool Terminating = false, bool Local = false)
    {
        public override string ToString() => Ip;
    }

    /// <param name="Cluster">The expected cluster set, or null where kube-proxy computes none (iTP Local, not externally accessible).</param>
    /// <param name="LocalSet">The expected local set, or null where kube-proxy computes none (no Local policy in use).</param>
    public sealed record Case(
        string Name,
        string? Zone,
        Ep[] Endpoints,
        string? Cluster,
        string? LocalSet,
        bool InternalLocal = false,
        bool ExternalLocal = false,
        bool NodePort = false)
    {
        public override string ToString() => Name;
    }

    private static readonly Ep[] FourZoned =
    [
        new("10.1.2.3", Zones: "zone-a"), new("10.1.2.4", Zones: "zone-b"), new("10.1.2.5", Zones: "zone-c"), new("10.1.2.6", Zones: "zone-a"),
    ];

    private static readonly Ep[] FourZonedTwoLocal =
    [
        new("10.1.2.3", Zones: "zone-a", Local: true), new("10.1.2.4", Zones: "zone-b", Local: true), new("10.1.2.5", Zones: "zone-c"), new("10.1.2.6", Zones: "zone-a"),
    ];

    public static TheoryData<Case> Cases => new(
        new Case("zone hints keep the endpoints hinted for this node's zone", "zone-a", FourZoned, "10.1.2.3 10.1.2.6", null),
        new Case("the topology-mode annotation is not read: hints decide (was: annotation disabled)", "zone-a", FourZoned, "10.1.2.3 10.1.2.6", null),
        new Case("eTP Local: topology narrows the cluster set, never the local one", "zone-a", FourZonedTwoLocal, "10.1.2.3 10.1.2.6", "10.1.2.3 10.1.2.4", ExternalLocal: true, NodePort: true),
        new Case("iTP Local: topology narrows the cluster set, never the local one", "zone-a", FourZonedTwoLocal, "10.1.2.3 10.1.2.6", "10.1.2.3 10.1.2.4", InternalLocal: true, NodePort: true),
        new Case("no zone label on the node: no filtering", null, [new("10.1.2.3", Zones: "zone-a")], "10.1.2.3", null),
        new Case("an empty zone label: no filtering", "", [new("10.1.2.3", Zones: "zone-a")], "10.1.2.3", null),
        new Case("node in a zone no endpoint is hinted for: no filtering", "zone-b", [new("10.1.2.3", Zones: "zone-a")], "10.1.2.3", null),
        new Case("an unready endpoint is never used, hinted or not", "zone-a",
            [new("10.1.2.3", Zones: "zone-a"), new("10.1.2.4", Zones: "zone-b"), new("10.1.2.5", Zones: "zone-c"), new("10.1.2.6", Zones: "zone-a", Ready: false)],
            "10.1.2.3", null),
        new Case("only unready endpoints in this zone: no filtering", "zone-a",
            [new("10.1.2.3", Zones: "zone-a", Ready: false), new("10.1.2.4", Zones: "zone-b"), new("10.1.2.5", Zones: "zone-c"), new("10.1.2.6", Zones: "zone-a", Ready: false)],
            "10.1.2.4 10.1.2.5", null),
        new Case("a ready endpoint without hints: no filtering", "zone-a",
            [new("10.1.2.3", Zones: "zone-a"), new("10.1.2.4", Zones: "zone-b"), new("10.1.2.5"), new("10.1.2.6", Zones: "zone-a")],
            "10.1.2.3 10.1.2.4 10.1.2.5 10.1.2.6", null),
        new Case("several hints per endpoint: any naming this zone counts", "zone-c",
            [new("10.1.2.3", Zones: "zone-a zone-b zone-c"), new("10.1.2.4", Zones: "zone-b zone-c"), new("10.1.2.5", Zones: "zone-b zone-d"), new("10.1.2.6", Zones: "zone-c")],
            "10.1.2.3 10.1.2.4 10.1.2.6", null),
        new Case("conflicting topology and localness", "zone-a",
            [new("10.0.0.0", Zones: "zone-a", Local: true), new("10.0.0.1", Zones: "zone-b", Local: true), new("10.0.0.2", Zones: "zone-a"), new("10.0.0.3", Zones: "zone-b")],
            "10.0.0.0 10.0.0.2", "10.0.0.0 10.0.0.1", ExternalLocal: true, NodePort: true),
        new Case("iTP Local without endpoints", null, [], null, "", InternalLocal: true),
        new Case("iTP Local, every endpoint remote", null, [new("10.0.0.0"), new("10.0.0.1")], null, "", InternalLocal: true),
        new Case("iTP Local, every endpoint local", null, [new("10.0.0.0", Local: true), new("10.0.0.1", Local: true)], null, "10.0.0.0 10.0.0.1", InternalLocal: true),
        new Case("iTP Local, some endpoints local", null, [new("10.0.0.0", Local: true), new("10.0.0.1")], null, "10.0.0.0", InternalLocal: true),
        new Case("Cluster, no endpoint ready", null, [new("10.0.0.0", Ready: false), new("10.0.0.1", Ready: false)], "", null),
        new Case("Cluster, some endpoints ready", null, [new("10.0.0.0", Ready: false), new("10.0.0.1")], "10.0.0.1", null),
        new Case("Cluster, every endpoint serving and terminating", null,
            [new("10.0.0.0", Ready: false, Serving: true, Terminating: true, Local: true), new("10.0.0.1", Ready: false, Serving: true, Terminating: true)],
            "10.0.0.0 10.0.0.1", null),
        new Case("iTP Local, eTP Cluster, some endpoints local", null, [new("10.0.0.0", Local: true), new("10.0.0.1")], "10.0.0.0 10.0.0.1", "10.0.0.0", InternalLocal: true, NodePort: true),
        new Case("iTP Cluster, eTP Local, some endpoints local", null, [new("10.0.0.0", Local: true), new("10.0.0.1")], "10.0.0.0 10.0.0.1", "10.0.0.0", ExternalLocal: true, NodePort: true),
        new Case("iTP Local, eTP Local, some endpoints local", null, [new("10.0.0.0", Local: true), new("10.0.0.1")], "10.0.0.0 10.0.0.1", "10.0.0.0", InternalLocal: true, ExternalLocal: true, NodePort: true),
        new Case("iTP Local, eTP Local, every endpoint remote", null, [new("10.0.0.0"), new("10.0.0.1")], "10.0.0.0 10.0.0.1", "", InternalLocal: true, ExternalLocal: true, NodePort: true),
        new Case("iTP Local, eTP Local, every endpoint remote and terminating", null,
            [new("10.0.0.0", Ready: false, Serving: true, Terminating: true), new("10.0.0.1", Ready: false, Serving: true, Terminating: true)],
            "10.0.0.0 10.0.0.1", "", InternalLocal: true, ExternalLocal: true, NodePort: true),
        new Case("iTP Cluster, eTP Local, with terminating endpoints", null,
            [
                new("10.0.0.0"), new("10.0.0.1", Ready: false, Local: true),
                new("10.0.0.2", Ready: false, Serving: true, Terminating: true, Local: true), new("10.0.0.3", Ready: false, Serving: true, Terminating: true),
            ],
            "10.0.0.0", "10.0.0.2", ExternalLocal: true, NodePort: true),
        new Case("eTP ignored when not externally accessible", null, [new("10.0.0.0"), new("10.0.0.1", Local: true)], "10.0.0.0 10.0.0.1", null, ExternalLocal: true),
        new Case("no cluster set for an iTP Local internal-only service", null, [new("10.0.0.0"), new("10.0.0.1", Local: true)], null, "10.0.0.1", InternalLocal: true),

        // Node hints (PreferSameNode, hints.forNodes, Kubernetes 1.33+), from topologyModeFromHints.
        new Case("node hints keep the endpoints hinted for this node, over complete zone hints", "zone-a",
            [new("10.0.1.1", Zones: "zone-a", Nodes: "node-a"), new("10.0.1.2", Zones: "zone-a", Nodes: "node-b"), new("10.0.1.3", Zones: "zone-b", Nodes: "node-c")],
            "10.0.1.1", null),
        new Case("node hints naming several nodes", "zone-a",
            [new("10.0.1.1", Nodes: "node-a node-b"), new("10.0.1.2", Nodes: "node-b"), new("10.0.1.3", Nodes: "node-a")],
            "10.0.1.1 10.0.1.3", null),
        new Case("no node hint names this node: zone hints apply", "zone-a",
            [new("10.0.1.1", Zones: "zone-a", Nodes: "node-b"), new("10.0.1.2", Zones: "zone-a", Nodes: "node-c"), new("10.0.1.3", Zones: "zone-b", Nodes: "node-d")],
            "10.0.1.1 10.0.1.2", null),
        new Case("a ready endpoint without a node hint: zone hints apply", "zone-a",
            [new("10.0.1.1", Zones: "zone-a", Nodes: "node-a"), new("10.0.1.2", Zones: "zone-a"), new("10.0.1.3", Zones: "zone-b", Nodes: "node-c")],
            "10.0.1.1 10.0.1.2", null),
        new Case("an unready endpoint without a node hint does not disable node hints", "zone-a",
            [new("10.0.1.1", Nodes: "node-a"), new("10.0.1.2", Nodes: "node-b"), new("10.0.1.3", Ready: false)],
            "10.0.1.1", null),
        new Case("only unready endpoints hinted for this node: no filtering", null,
            [new("10.0.1.1", Nodes: "node-a", Ready: false), new("10.0.1.2", Nodes: "node-b"), new("10.0.1.3", Nodes: "node-c")],
            "10.0.1.2 10.0.1.3", null),
        new Case("neither hint set complete: no filtering", "zone-a",
            [new("10.0.1.1", Zones: "zone-a", Nodes: "node-a"), new("10.0.1.2"), new("10.0.1.3", Zones: "zone-b")],
            "10.0.1.1 10.0.1.2 10.0.1.3", null),
        new Case("nothing ready: the terminating fallback ignores hints", "zone-a",
            [new("10.0.1.1", Zones: "zone-a", Nodes: "node-a", Ready: false, Serving: true, Terminating: true), new("10.0.1.2", Zones: "zone-b", Nodes: "node-b", Ready: false, Serving: true, Terminating: true)],
            "10.0.1.1 10.0.1.2", null),
        new Case("node hints narrow the cluster set, never the iTP Local set", "zone-a",
            [new("10.0.1.1", Nodes: "node-b", Local: true), new("10.0.1.2", Nodes: "node-a")],
            "10.0.1.2", "10.0.1.1", InternalLocal: true, NodePort: true));

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheCategorizerSortsEndpointsAsKubeProxyDoes(Case c)
    {
        var (service, slice) = Objects(c);
        var parser = new ClusterObjectParser();
        var endpoints = ServiceTranslator.MergeEndpoints(parser.ParseService(service)!.Ports[0], AddressFamily.InterNetwork, [parser.ParseEndpointSlice(slice)!]);

        CategorizedEndpoints categorized = EndpointCategorizer.Categorize(endpoints, ThisNode, c.Zone);

        if (c.Cluster is not null) Assert.Equal(Set(c.Cluster), Set(categorized.Cluster.Select(e => e.Address.ToString())));
        if (c.LocalSet is not null) Assert.Equal(Set(c.LocalSet), Set(categorized.Local.Select(e => e.Address.ToString())));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheTranslatorProgramsWhatTheCategorizerDecides(Case c)
    {
        var (service, slice) = Objects(c);
        var node = Node(ThisNode, c.Zone);

        var map = new ServiceTranslator(ThisNode).Translate(ClusterState.FromObjects([service], [slice], new ClusterObjectParser(), node));

        string? clusterIp = c.InternalLocal ? c.LocalSet : c.Cluster;
        if (clusterIp is not null) Assert.Equal(Expected(clusterIp), Trace(map, "10.96.0.1:80/TCP"));
        if (c.NodePort) Assert.Equal(Expected(c.Cluster!), Trace(map, "0.0.0.0:30080/TCP"));
        else Assert.Equal(Pass, Trace(map, "0.0.0.0:30080/TCP"));
    }

    private static (V1Service Service, V1EndpointSlice Slice) Objects(Case c)
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        // Neither is read by a proxy: the EndpointSlice controller turned them into the hints already.
        service.Metadata.Annotations = new Dictionary<string, string> { ["service.kubernetes.io/topology-mode"] = "Disabled" };
        service.Spec.TrafficDistribution = null;
        service.Spec.InternalTrafficPolicy = c.InternalLocal ? "Local" : "Cluster";
        service.Spec.ExternalTrafficPolicy = c.ExternalLocal ? "Local" : "Cluster";
        if (c.NodePort)
        {
            service.Spec.Type = "NodePort";
            service.Spec.Ports[0].NodePort = 30080;
        }
        var slice = Slice("web-1", "web", [SlicePort("http", 80)], c.Endpoints.Select(ToEndpoint).ToArray());
        return (service, slice);
    }

    private static V1Endpoint ToEndpoint(Ep e)
    {
        var endpoint = Endpoint(e.Ip, e.Ready, e.Serving, e.Terminating, e.Local ? ThisNode : "node-z",
            // endpoint.zone says the opposite of the hints: it must never be read.
            zone: "zone-unhinted");
        var zones = Words(e.Zones);
        var nodes = Words(e.Nodes);
        if (zones.Length > 0 || nodes.Length > 0)
        {
            endpoint.Hints = new V1EndpointHints
            {
                ForZones = zones.Length > 0 ? zones.Select(z => new V1ForZone { Name = z }).ToList() : null,
                ForNodes = nodes.Length > 0 ? nodes.Select(n => new V1ForNode { Name = n }).ToList() : null,
            };
        }
        return endpoint;
    }

    private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static SortedSet<string> Set(string addresses) => new(Words(addresses), StringComparer.Ordinal);

    private static SortedSet<string> Set(IEnumerable<string> addresses) => new(addresses, StringComparer.Ordinal);

    private static string Expected(string addresses) =>
        Words(addresses).Length == 0
            ? Refused
            : string.Join(", ", Words(addresses).Order(Comparer<string>.Create((a, b) => AddressOrder.Compare(System.Net.IPAddress.Parse(a), System.Net.IPAddress.Parse(b)))).Select(a => $"{a}:80"));

    private static Gen<string> HintGen(string a, string b) => Gen.OneOfConst("", a, b, $"{a} {b}");

    private static readonly Gen<Ep> RandomEndpoint =
        Gen.Select(Gen.Int[1, 6], HintGen("zone-a", "zone-b"), HintGen("node-a", "node-b"), Gen.Bool, Gen.Bool, Gen.Bool, Gen.Bool)
            .Select((i, zones, nodes, ready, serving, terminating, local) => new Ep($"198.18.0.{i}", zones, nodes, ready, serving, terminating, local));

    private static readonly Gen<Case> RandomCase =
        Gen.Select(Gen.OneOfConst<string?>(null, "zone-a", "zone-b"), RandomEndpoint.Array[0, 6], Gen.Bool, Gen.Bool, Gen.Bool)
            .Select((zone, endpoints, internalLocal, externalLocal, nodePort) =>
                new Case("random", zone, endpoints.DistinctBy(e => e.Ip).ToArray(), null, null, internalLocal, externalLocal, nodePort));

    /// <summary>
    /// The translator's allocation-light path and the categorizer agree on any endpoint set: random conditions, hints,
    /// nodes and policies, with endpoints listed twice across two slices so the merge is exercised too.
    /// </summary>
    [Fact]
    public void TheTranslatorAndTheCategorizerAgreeOnRandomEndpoints()
    {
        Gen.Select(RandomCase, RandomEndpoint.Array[0, 4]).Sample((c, copies) =>
        {
            var (service, slice) = Objects(c);
            var second = Slice("web-2", "web", [SlicePort("http", 80)], copies.Select(ToEndpoint).ToArray());
            var parser = new ClusterObjectParser();
            var state = ClusterState.FromObjects([service], [slice, second], parser, Node(ThisNode, c.Zone));
            var endpoints = ServiceTranslator.MergeEndpoints(state.Services.Values.Single().Ports[0], AddressFamily.InterNetwork, state.SlicesOf(state.Services.Keys.Single()));
            CategorizedEndpoints categorized = EndpointCategorizer.Categorize(endpoints, ThisNode, c.Zone);

            var map = new ServiceTranslator(ThisNode).Translate(state);

            Assert.Equal(Flow(c.InternalLocal ? categorized.Local : categorized.Cluster), Trace(map, "10.96.0.1:80/TCP"));
            Assert.Equal(c.NodePort ? Flow(categorized.Cluster) : Pass, Trace(map, "0.0.0.0:30080/TCP"));
        }, iter: 500);
    }

    private static string Flow(IEnumerable<EndpointInfo> endpoints) =>
        endpoints.Any() ? string.Join(", ", endpoints.Select(e => e.ToString())) : Refused;
}
