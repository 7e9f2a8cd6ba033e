using System.Net;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Testing.Logging;
using k8s.Models;
using static CgroupLb.Model.Tests.Support.ConnectFlow;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

/// <summary>
/// Every address a client on this node may connect to becomes a frontend: ClusterIPs, the NodePort (as the wildcard
/// address of each family), spec.externalIPs and status.loadBalancer.ingress IPs (not ipMode Proxy), each with its
/// family's endpoints, under kube-proxy's rules for in-cluster clients.
/// </summary>
public class FrontendKindTests
{
    private const string ThisNode = "node-a";
    private readonly ListLogger log = new();

    private IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(IEnumerable<V1Service> services, params V1EndpointSlice[] slices) =>
        new ServiceTranslator(ThisNode, log).Translate(ClusterState.FromObjects(services, slices, new ClusterObjectParser(log)));

    private IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(V1Service service, params V1EndpointSlice[] slices) =>
        Translate([service], slices);

    private static LoadBalancerService At(IReadOnlyDictionary<Frontend, LoadBalancerService> map, string frontend) =>
        map.Values.Single(s => s.Frontend.ToString() == frontend);

    /// <summary>A LoadBalancer Service on 10.96.0.1:80 with nodePort 30080.</summary>
    private static V1Service LoadBalancerService(string name = "web", string clusterIp = "10.96.0.1", int nodePort = 30080)
    {
        var service = Service(name, clusterIp, Port("http", 80));
        service.Spec.Type = "LoadBalancer";
        service.Spec.Ports[0].NodePort = nodePort;
        return service;
    }

    private static V1LoadBalancerIngress Ingress(string? ip, string? ipMode = null, string? hostname = null) =>
        new() { Ip = ip, IpMode = ipMode, Hostname = hostname };

    private static V1EndpointSlice WebSlice(params V1Endpoint[] endpoints) =>
        Slice("web-1", "web", [SlicePort("http", 8080)], endpoints);

    private static string Kinds(IReadOnlyDictionary<Frontend, LoadBalancerService> map) =>
        string.Join(" | ", map.Values.OrderBy(s => s.Frontend).Select(s => $"{s.Frontend} {s.Flags}"));

    public static TheoryData<string, Action<V1Service>, string> FrontendKindCases => new()
    {
        {
            "ClusterIP only",
            s => { s.Spec.Type = "ClusterIP"; s.Spec.Ports[0].NodePort = null; },
            "10.96.0.1:80/TCP ClusterIp"
        },
        {
            "NodePort: the wildcard address with the node port",
            s => s.Spec.Type = "NodePort",
            "0.0.0.0:30080/TCP NodePort | 10.96.0.1:80/TCP ClusterIp"
        },
        {
            "external IPs on the service port",
            s => { s.Spec.Type = "ClusterIP"; s.Spec.Ports[0].NodePort = null; s.Spec.ExternalIPs = ["203.0.113.11", "203.0.113.10"]; },
            "10.96.0.1:80/TCP ClusterIp | 203.0.113.10:80/TCP ExternalIp | 203.0.113.11:80/TCP ExternalIp"
        },
        {
            "ingress IPs: VIP and unset mode are programmed, Proxy mode and hostnames are not",
            s => s.Status = new() { LoadBalancer = new() { Ingress = [Ingress("203.0.113.20"), Ingress("203.0.113.21", "VIP"), Ingress("203.0.113.22", "Proxy"), Ingress(null, hostname: "lb.example.com")] } },
            "0.0.0.0:30080/TCP NodePort | 10.96.0.1:80/TCP ClusterIp | 203.0.113.20:80/TCP LoadBalancer | 203.0.113.21:80/TCP LoadBalancer"
        },
        {
            "a LoadBalancer without node ports (allocateLoadBalancerNodePorts false) has no NodePort frontend",
            s => { s.Spec.Ports[0].NodePort = null; s.Status = new() { LoadBalancer = new() { Ingress = [Ingress("203.0.113.20")] } }; },
            "10.96.0.1:80/TCP ClusterIp | 203.0.113.20:80/TCP LoadBalancer"
        },
        {
            "an address of a family the service has no ClusterIP for is left out, as kube-proxy does",
            s => { s.Spec.ExternalIPs = ["2001:db8::10"]; s.Status = new() { LoadBalancer = new() { Ingress = [Ingress("2001:db8::20")] } }; },
            "0.0.0.0:30080/TCP NodePort | 10.96.0.1:80/TCP ClusterIp"
        },
        {
            "dual-stack: one NodePort wildcard per family, each address with its family",
            s =>
            {
                s.Spec.ClusterIPs = ["10.96.0.1", "fd00::1"];
                s.Spec.ExternalIPs = ["2001:db8::10", "203.0.113.10"];
                s.Status = new() { LoadBalancer = new() { Ingress = [Ingress("2001:db8::20"), Ingress("203.0.113.20")] } };
            },
            "0.0.0.0:30080/TCP NodePort | 10.96.0.1:80/TCP ClusterIp | 203.0.113.10:80/TCP ExternalIp | 203.0.113.20:80/TCP LoadBalancer | "
            + "[::]:30080/TCP NodePort | [2001:db8::10]:80/TCP ExternalIp | [2001:db8::20]:80/TCP LoadBalancer | [fd00::1]:80/TCP ClusterIp"
        },
        {
            "session affinity is flagged on every kind",
            s =>
            {
                s.Spec.SessionAffinity = "ClientIP";
                s.Spec.ExternalIPs = ["203.0.113.10"];
                s.Status = new() { LoadBalancer = new() { Ingress = [Ingress("203.0.113.20")] } };
            },
            "0.0.0.0:30080/TCP NodePort, Affinity | 10.96.0.1:80/TCP ClusterIp, Affinity | 203.0.113.10:80/TCP ExternalIp, Affinity | 203.0.113.20:80/TCP LoadBalancer, Affinity"
        },
        {
            "internalTrafficPolicy Local flags the ClusterIP only",
            s => { s.Spec.InternalTrafficPolicy = "Local"; s.Spec.ExternalIPs = ["203.0.113.10"]; },
            "0.0.0.0:30080/TCP NodePort | 10.96.0.1:80/TCP ClusterIp, LocalOnly | 203.0.113.10:80/TCP ExternalIp"
        },
        {
            "externalTrafficPolicy Local flags nothing: in-cluster clients use the cluster-wide endpoints",
            s => { s.Spec.ExternalTrafficPolicy = "Local"; s.Spec.ExternalIPs = ["203.0.113.10"]; },
            "0.0.0.0:30080/TCP NodePort | 10.96.0.1:80/TCP ClusterIp | 203.0.113.10:80/TCP ExternalIp"
        },
        {
            "an external IP that is also the ingress IP is one frontend, the external IP",
            s => { s.Spec.ExternalIPs = ["203.0.113.10"]; s.Status = new() { LoadBalancer = new() { Ingress = [Ingress("203.0.113.10")] } }; },
            "0.0.0.0:30080/TCP NodePort | 10.96.0.1:80/TCP ClusterIp | 203.0.113.10:80/TCP ExternalIp"
        },
    };

    [Theory]
    [MemberData(nameof(FrontendKindCases))]
    public void EachAddressKindBecomesAFrontendWithItsFlags(string why, Action<V1Service> shape, string expected)
    {
        var service = LoadBalancerService();
        shape(service);
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)], Endpoint("2001:db8:1::1"));

        var map = Translate(service, v4, v6);

        Assert.True(Kinds(map) == expected, $"{why}:{Environment.NewLine}expected {expected}{Environment.NewLine}got      {Kinds(map)}");
        Assert.All(map.Values, lb => Assert.Equal("default/web:http", lb.Name));
        Assert.Empty(log.Warnings);
    }

    [Fact]
    public void EveryFrontendGetsItsFamilysEndpointsAndTheAffinityTimeout()
    {
        var service = LoadBalancerService();
        service.Spec.ClusterIPs = ["10.96.0.1", "fd00::1"];
        service.Spec.ExternalIPs = ["203.0.113.10", "2001:db8::10"];
        service.Spec.SessionAffinity = "ClientIP";
        service.Spec.SessionAffinityConfig = new() { ClientIP = new() { TimeoutSeconds = 60 } };
        service.Status = new() { LoadBalancer = new() { Ingress = [Ingress("203.0.113.20"), Ingress("2001:db8::20")] } };
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080)], Endpoint("198.18.0.2"), Endpoint("198.18.0.1"));
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)], Endpoint("2001:db8:1::1"));

        var map = Translate(service, v4, v6);

        const string V4 = "198.18.0.1:8080, 198.18.0.2:8080";
        const string V6 = "[2001:db8:1::1]:8080";
        AssertFlows(map,
            ("10.96.0.1:80/TCP", V4), ("0.0.0.0:30080/TCP", V4), ("203.0.113.10:80/TCP", V4), ("203.0.113.20:80/TCP", V4),
            ("[fd00::1]:80/TCP", V6), ("[::]:30080/TCP", V6), ("[2001:db8::10]:80/TCP", V6), ("[2001:db8::20]:80/TCP", V6),
            ("0.0.0.0:80/TCP", Pass), ("203.0.113.10:30080/TCP", Pass), ("0.0.0.0:30080/UDP", Pass));
        Assert.Equal(8, map.Count);
        Assert.All(map.Values, lb => Assert.Equal(60u, lb.AffinityTimeoutSeconds));
    }

    public static TheoryData<string, string?, string?, string, string> TrafficPolicyCases => new()
    {
        // internal, external, ClusterIP backends, NodePort/external/ingress backends. This node runs .1; .2 runs elsewhere.
        { "Cluster/Cluster: every endpoint everywhere", null, null, "198.18.0.1:8080, 198.18.0.2:8080", "198.18.0.1:8080, 198.18.0.2:8080" },
        { "iTP Local: the ClusterIP keeps this node's endpoints, the external kinds all", "Local", null, "198.18.0.1:8080", "198.18.0.1:8080, 198.18.0.2:8080" },
        { "eTP Local: in-cluster clients still reach every endpoint", null, "Local", "198.18.0.1:8080, 198.18.0.2:8080", "198.18.0.1:8080, 198.18.0.2:8080" },
        { "both Local: only the ClusterIP is narrowed", "Local", "Local", "198.18.0.1:8080", "198.18.0.1:8080, 198.18.0.2:8080" },
    };

    [Theory]
    [MemberData(nameof(TrafficPolicyCases))]
    public void TrafficPoliciesApplyAsKubeProxyAppliesThemToInClusterClients(string why, string? internalPolicy, string? externalPolicy, string clusterIp, string external)
    {
        var service = LoadBalancerService();
        service.Spec.InternalTrafficPolicy = internalPolicy;
        service.Spec.ExternalTrafficPolicy = externalPolicy;
        service.Spec.HealthCheckNodePort = externalPolicy == "Local" ? 31000 : null;
        service.Spec.ExternalIPs = ["203.0.113.10"];
        service.Status = new() { LoadBalancer = new() { Ingress = [Ingress("203.0.113.20")] } };

        var map = Translate(service, WebSlice(Endpoint("198.18.0.1", node: ThisNode), Endpoint("198.18.0.2", node: "node-b")));

        var failures = new[] { ("10.96.0.1:80/TCP", clusterIp), ("0.0.0.0:30080/TCP", external), ("203.0.113.10:80/TCP", external), ("203.0.113.20:80/TCP", external) }
            .Where(f => Trace(map, f.Item1) != f.Item2)
            .Select(f => $"{f.Item1}: expected {f.Item2}, got {Trace(map, f.Item1)}");
        Assert.True(!failures.Any(), $"{why}: {string.Join("; ", failures)}");
    }

    [Fact]
    public void ExternalTrafficPolicyLocalWithNoEndpointOnThisNodeStillReachesRemoteOnes()
    {
        var service = LoadBalancerService();
        service.Spec.ExternalTrafficPolicy = "Local";
        service.Spec.ExternalIPs = ["203.0.113.10"];

        var map = Translate(service, WebSlice(Endpoint("198.18.0.2", node: "node-b"), Endpoint("198.18.0.3", node: "node-c")));

        AssertFlows(map, ("0.0.0.0:30080/TCP", "198.18.0.2:8080, 198.18.0.3:8080"), ("203.0.113.10:80/TCP", "198.18.0.2:8080, 198.18.0.3:8080"));
    }

    [Fact]
    public void InternalTrafficPolicyLocalWithoutLocalEndpointsRefusesTheClusterIpOnlyAndFallsBackToLocalTerminatingOnes()
    {
        var service = LoadBalancerService();
        service.Spec.InternalTrafficPolicy = "Local";

        AssertFlows(Translate(service, WebSlice(Endpoint("198.18.0.2", node: "node-b"))),
            ("10.96.0.1:80/TCP", Refused), ("0.0.0.0:30080/TCP", "198.18.0.2:8080"));
        AssertFlows(Translate(service, WebSlice(Endpoint("198.18.0.1", ready: false, serving: true, terminating: true, node: ThisNode), Endpoint("198.18.0.2", node: "node-b"))),
            ("10.96.0.1:80/TCP", "198.18.0.1:8080"), ("0.0.0.0:30080/TCP", "198.18.0.2:8080"));
    }

    public static TheoryData<string, string, string> CollisionCases => new()
    {
        // The external IP of "zeta" is "alpha"'s: alpha sorts first and keeps it, whichever kind each one has.
        { "an external IP on another service's ClusterIP", "10.96.0.1", "10.96.0.1" },
        { "two services claiming one external IP", "203.0.113.10", "203.0.113.10" },
    };

    [Theory]
    [MemberData(nameof(CollisionCases))]
    public void AnAddressTwoServicesClaimGoesToTheFirstByNameWithAWarning(string why, string alphaAddress, string zetaExternalIp)
    {
        var alpha = Service("alpha", "10.96.0.1", Port("http", 80));
        if (alphaAddress != "10.96.0.1") alpha.Spec.ExternalIPs = [alphaAddress];
        var zeta = Service("zeta", "10.96.0.2", Port("http", 80));
        zeta.Spec.ExternalIPs = [zetaExternalIp];
        var alphaSlice = Slice("alpha-1", "alpha", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));
        var zetaSlice = Slice("zeta-1", "zeta", [SlicePort("http", 8080)], Endpoint("198.18.0.9"));

        var map = Translate([zeta, alpha], zetaSlice, alphaSlice);

        Assert.True(At(map, $"{alphaAddress}:80/TCP").Name == "default/alpha:http", why);
        AssertFlows(map, ($"{alphaAddress}:80/TCP", "198.18.0.1:8080"), ("10.96.0.2:80/TCP", "198.18.0.9:8080"));
        Assert.Contains(log.Warnings, w => w.Contains("default/zeta:http") && w.Contains("default/alpha:http") && w.Contains(alphaAddress));
    }

    [Fact]
    public void TwoServicesOnOneNodePortKeepTheFirstByName()
    {
        // The API allocates node ports uniquely; hand-written manifests may not.
        var map = Translate([LoadBalancerService("zeta", "10.96.0.2"), LoadBalancerService("alpha", "10.96.0.1")]);

        Assert.Equal("default/alpha:http", At(map, "0.0.0.0:30080/TCP").Name);
        Assert.Contains(log.Warnings, w => w.Contains("0.0.0.0:30080/TCP") && w.Contains("default/zeta:http"));
    }

    [Fact]
    public void TheParserKeepsProxyModeIngressApartAndReadsNodeHints()
    {
        var service = LoadBalancerService();
        service.Status = new() { LoadBalancer = new() { Ingress = [Ingress("203.0.113.22", "Proxy"), Ingress("203.0.113.20", "VIP"), Ingress("203.0.113.021")] } };
        var slice = WebSlice(Endpoint("198.18.0.1"));
        slice.Endpoints[0].Hints = new() { ForNodes = [new() { Name = "node-b" }, new() { Name = "node-a" }], ForZones = [new() { Name = "zone-1" }] };
        var parser = new ClusterObjectParser();

        ServicePortInfo port = parser.ParseService(service)!.Ports.Single();
        SliceEndpoint endpoint = parser.ParseEndpointSlice(slice)!.Endpoints.Single();

        Assert.Equal([IPAddress.Parse("203.0.113.20"), IPAddress.Parse("203.0.113.21")], port.LoadBalancerIngressIPs);
        Assert.Equal([IPAddress.Parse("203.0.113.22")], port.ProxyModeIngressIPs);
        Assert.True(port.ExternallyAccessible);
        Assert.Equal(["node-a", "node-b"], endpoint.NodeHints);
        Assert.Equal(["zone-1"], endpoint.ZoneHints);

        // Switching an ingress to Proxy mode is a change the tracker must see.
        var proxied = Clone(service);
        proxied.Status.LoadBalancer.Ingress[1].IpMode = "Proxy";
        Assert.NotEqual(port, parser.ParseService(proxied)!.Ports.Single());
    }

    [Fact]
    public void NodeAddressesAreTheInternalAndExternalIpsSortedAndDistinct()
    {
        var node = Node("node-b");
        node.Status = new()
        {
            Addresses =
            [
                new() { Address = "192.0.2.20", Type = "ExternalIP" }, new() { Address = "node-b.example", Type = "Hostname" }, new() { Address = "198.51.100.020", Type = "InternalIP" },
                new() { Address = "2001:db8::20", Type = "InternalIP" }, new() { Address = "192.0.2.20", Type = "InternalIP" }, new() { Address = "not-an-ip", Type = "InternalIP" },
                new() { Address = "198.51.100.99", Type = "InternalDNS" },
            ],
        };

        Assert.Equal(
            ["192.0.2.20", "198.51.100.20", "2001:db8::20"],
            ClusterObjectParser.ParseNodeAddresses(node).Select(a => a.ToString()));
        var state = ClusterState.FromObjects([], [], new ClusterObjectParser(), Node("node-a"), [node, Node("node-c")]);
        Assert.Equal(["192.0.2.20", "198.51.100.20", "2001:db8::20"], state.NodeAddresses.Select(a => a.ToString()));
    }
}
