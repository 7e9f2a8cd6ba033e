using System.Net;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Services;
using CgroupLb.Model.Tests.Support;
using CgroupLb.Testing.Logging;
using k8s.Models;
using static CgroupLb.Model.Tests.Support.ConnectFlow;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

public class ServiceTranslatorTests
{
    private const string ThisNode = "node-a";
    private readonly ListLogger log = new();

    private IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(IEnumerable<V1Service> services, params V1EndpointSlice[] slices)
    {
        var parser = new ClusterObjectParser(log);
        return new ServiceTranslator(ThisNode, log).Translate(ClusterState.FromObjects(services, slices, parser));
    }

    private IReadOnlyDictionary<Frontend, LoadBalancerService> Translate(V1Service service, params V1EndpointSlice[] slices) =>
        Translate([service], slices);

    private static LoadBalancerService Single(IReadOnlyDictionary<Frontend, LoadBalancerService> map, string frontend) =>
        map.Values.Single(s => s.Frontend.ToString() == frontend);

    [Fact]
    public void EachPortAndProtocolOfTheClusterIpBecomesAFrontendWithSortedBackends()
    {
        var service = Service("dns", "10.96.0.10", Port("dns", 53, "UDP"), Port("dns-tcp", 53, null), Port("metrics", 9153));
        var slice = Slice("dns-1", "dns",
            [SlicePort("dns", 5353, "UDP"), SlicePort("dns-tcp", 5353, null), SlicePort("metrics", 9153)],
            Endpoint("198.18.0.9"), Endpoint("198.18.0.2"), Endpoint("198.18.0.10"));

        var map = Translate(service, slice);

        Assert.Equal(3, map.Count);
        AssertFlows(map,
            ("10.96.0.10:53/UDP", "198.18.0.2:5353, 198.18.0.9:5353, 198.18.0.10:5353"),
            ("10.96.0.10:53/TCP", "198.18.0.2:5353, 198.18.0.9:5353, 198.18.0.10:5353"),
            ("10.96.0.10:9153/TCP", "198.18.0.2:9153, 198.18.0.9:9153, 198.18.0.10:9153"),
            ("10.96.0.10:9153/UDP", Pass),
            ("10.96.0.11:53/UDP", Pass));
        var udp = Single(map, "10.96.0.10:53/UDP");
        Assert.Equal("default/dns:dns", udp.Name);
        Assert.Equal(ServiceFlags.ClusterIp, udp.Flags);
        Assert.All(udp.Backends, b => Assert.Equal(L4Protocol.Udp, b.Protocol));
    }

    [Fact]
    public void UnnamedPortIsNamedAfterTheServiceAlone()
    {
        var map = Translate(Service("team", "web", "10.96.0.1", Port(null, 80)),
            Slice("team", "web-1", "web", "IPv4", [SlicePort(null, 8080)], Endpoint("198.18.0.1")));
        Assert.Equal("team/web", map.Values.Single().Name);
    }

    [Fact]
    public void DualStackServiceGetsAFrontendPerFamilyEachWithItsFamilysEndpoints()
    {
        var service = Service("web", "10.96.0.20", Port("http", 80));
        service.Spec.ClusterIPs = ["10.96.0.20", "fd00::20"];
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)], Endpoint("2001:db8::1"));

        var map = Translate(service, v4, v6);

        AssertFlows(map,
            ("10.96.0.20:80/TCP", "198.18.0.1:8080"),
            ("[fd00::20]:80/TCP", "[2001:db8::1]:8080"));
    }

    [Fact]
    public void DualStackFamilyWithoutASliceRefusesWhileTheOtherFamilyIsServed()
    {
        var service = Service("web", "10.96.0.20", Port("http", 80));
        service.Spec.ClusterIPs = ["10.96.0.20", "fd00::20"];
        service.Spec.IpFamilies = ["IPv4", "IPv6"];
        service.Spec.IpFamilyPolicy = "RequireDualStack";
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));

        AssertFlows(Translate(service, v4),
            ("10.96.0.20:80/TCP", "198.18.0.1:8080"),
            ("[fd00::20]:80/TCP", Refused));
    }

    [Fact]
    public void Ipv6PrimaryDualStackServiceGetsBothFrontendsWhateverTheOrder()
    {
        var service = Service("web", "fd00::20", Port("http", 80), Port("dns", 53, "UDP"));
        service.Spec.ClusterIPs = ["fd00::20", "10.96.0.20"];
        service.Spec.IpFamilies = ["IPv6", "IPv4"];
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080), SlicePort("dns", 5353, "UDP")], Endpoint("2001:db8::2"), Endpoint("2001:db8::1"));
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080), SlicePort("dns", 5353, "UDP")], Endpoint("198.18.0.1"));

        var map = Translate(service, v6, v4);

        Assert.Equal(4, map.Count);
        AssertFlows(map,
            ("[fd00::20]:80/TCP", "[2001:db8::1]:8080, [2001:db8::2]:8080"),
            ("[fd00::20]:53/UDP", "[2001:db8::1]:5353, [2001:db8::2]:5353"),
            ("10.96.0.20:80/TCP", "198.18.0.1:8080"),
            ("10.96.0.20:53/UDP", "198.18.0.1:5353"));
        Assert.Equal(["default/web:dns", "default/web:dns", "default/web:http", "default/web:http"], map.Values.Select(v => v.Name).Order());
    }

    [Fact]
    public void SingleStackIpv6ServiceIgnoresIpv4Slices()
    {
        var service = Service("web", "fd00::30", Port("http", 80));
        service.Spec.IpFamilies = ["IPv6"];
        service.Spec.IpFamilyPolicy = "SingleStack";
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)], Endpoint("2001:db8::1"));

        var map = Translate(service, v4, v6);

        AssertFlows(map, ("[fd00::30]:80/TCP", "[2001:db8::1]:8080"));
        Assert.Single(map);
    }

    /// <summary>PreferDualStack on a single-stack cluster: clusterIPs, not the policy, says which frontends exist.</summary>
    [Fact]
    public void PreferDualStackWithOneClusterIpGetsOneFrontend()
    {
        var service = Service("web", "10.96.0.40", Port("http", 80));
        service.Spec.ClusterIPs = ["10.96.0.40"];
        service.Spec.IpFamilyPolicy = "PreferDualStack";
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)], Endpoint("2001:db8::1"));
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));

        var map = Translate(service, v4, v6);

        AssertFlows(map, ("10.96.0.40:80/TCP", "198.18.0.1:8080"));
        Assert.Single(map);
    }

    [Fact]
    public void InternalTrafficPolicyLocalAppliesToEachFamily()
    {
        var service = Service("web", "10.96.0.20", Port("http", 80));
        service.Spec.ClusterIPs = ["10.96.0.20", "fd00::20"];
        service.Spec.InternalTrafficPolicy = "Local";
        var v4 = Slice("default", "web-v4", "web", "IPv4", [SlicePort("http", 8080)],
            Endpoint("198.18.0.1", node: ThisNode), Endpoint("198.18.0.2", node: "node-b"));
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)],
            Endpoint("2001:db8::1", node: "node-b"), Endpoint("2001:db8::2", node: ThisNode));

        AssertFlows(Translate(service, v4, v6),
            ("10.96.0.20:80/TCP", "198.18.0.1:8080"),
            ("[fd00::20]:80/TCP", "[2001:db8::2]:8080"));
    }

    [Fact]
    public void SctpPortIsRefusedWithOneWarningPerPortWhileOtherPortsWork()
    {
        var service = Service("sig", "10.96.0.30", Port("sctp", 2905, "SCTP"), Port("http", 80));
        var parser = new ClusterObjectParser(log);

        var first = parser.ParseService(service)!;
        parser.ParseService(service);
        parser.ParseService(Clone(service));

        Assert.Equal(["http"], first.Ports.Select(p => p.Name.Port));
        var warning = Assert.Single(log.Warnings);
        Assert.Contains("default/sig:sctp", warning);
        Assert.Contains("SCTP", warning);
    }

    [Fact]
    public void BackendPortComesFromTheSlicePortNamedLikeTheServicePortNotFromTargetPort()
    {
        // The EndpointSlice controller resolved targetPort already; kube-proxy trusts the slice, and so do we.
        var service = Service("web", "10.96.0.1", Port("http", 80, targetPort: "8080"));
        var map = Translate(service, Slice("web-1", "web", [SlicePort("http", 8081)], Endpoint("198.18.0.1")));
        AssertFlows(map, ("10.96.0.1:80/TCP", "198.18.0.1:8081"));
    }

    [Fact]
    public void NamedTargetPortIsResolvedPerSlice()
    {
        // Pods of two versions expose the named port "web" on different numbers; each slice carries its own.
        var service = Service("web", "10.96.0.1", Port("http", 80, targetPort: "web"));
        var oldPods = Slice("web-old", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));
        var newPods = Slice("web-new", "web", [SlicePort("http", 9090)], Endpoint("198.18.0.2"));

        var map = Translate(service, oldPods, newPods);

        AssertFlows(map, ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:9090"));
    }

    public static TheoryData<string, Discoveryv1EndpointPort> SlicePortsThatDoNotServeHttpTcp => new()
    {
        { "other name", SlicePort("https", 8443) },
        { "same name other protocol", SlicePort("http", 8080, "UDP") },
        { "no number", SlicePort("http", null) },
        { "unnamed while the service port is named", SlicePort(null, 8080) },
    };

    [Theory]
    [MemberData(nameof(SlicePortsThatDoNotServeHttpTcp))]
    public void SlicePortMustMatchNameAndProtocolAndHaveANumber(string why, Discoveryv1EndpointPort slicePort)
    {
        var map = Translate(Service("web", "10.96.0.1", Port("http", 80)), Slice("web-1", "web", [slicePort], Endpoint("198.18.0.1")));
        Assert.True(Trace(map, "10.96.0.1:80/TCP") == Refused, why);
    }

    public static TheoryData<string, V1Endpoint[], string> EndpointConditionCases => new()
    {
        { "missing conditions mean ready and serving", [Endpoint("198.18.0.1")], "198.18.0.1:8080" },
        { "not ready is left out", [Endpoint("198.18.0.1"), Endpoint("198.18.0.2", ready: false)], "198.18.0.1:8080" },
        { "serving but neither ready nor terminating is left out", [Endpoint("198.18.0.1", ready: false, serving: true)], Refused },
        {
            "terminating ones are used only when none is ready",
            [Endpoint("198.18.0.1"), Endpoint("198.18.0.2", ready: false, serving: true, terminating: true)],
            "198.18.0.1:8080"
        },
        {
            "serving terminating ones carry traffic when nothing is ready",
            [Endpoint("198.18.0.1", ready: false, serving: false, terminating: true), Endpoint("198.18.0.2", ready: false, serving: true, terminating: true), Endpoint("198.18.0.3", ready: false)],
            "198.18.0.2:8080"
        },
        {
            "missing serving counts as serving for terminating endpoints",
            [Endpoint("198.18.0.2", ready: false, terminating: true)],
            "198.18.0.2:8080"
        },
        { "no endpoints means refused", [], Refused },
    };

    [Theory]
    [MemberData(nameof(EndpointConditionCases))]
    public void EndpointConditionsDecideWhoGetsTraffic(string why, V1Endpoint[] endpoints, string expected)
    {
        var map = Translate(Service("web", "10.96.0.1", Port("http", 80)), Slice("web-1", "web", [SlicePort("http", 8080)], endpoints));
        Assert.True(Trace(map, "10.96.0.1:80/TCP") == expected, $"{why}: got {Trace(map, "10.96.0.1:80/TCP")}");
    }

    [Fact]
    public void AnEndpointInTwoSlicesCountsOnceAndItsNonTerminatingCopyWins()
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        // "a" still lists .1 as terminating; "b" already lists it as ready again. With the terminating copy, .1
        // would lose to the ready .2; with the non-terminating copy both are ready.
        var a = Slice("web-a", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1", ready: false, terminating: true));
        var b = Slice("web-b", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1"), Endpoint("198.18.0.2"));

        var endpoints = ServiceTranslator.MergeEndpoints(
            new ClusterObjectParser().ParseService(service)!.Ports[0],
            System.Net.Sockets.AddressFamily.InterNetwork,
            [new ClusterObjectParser().ParseEndpointSlice(a)!, new ClusterObjectParser().ParseEndpointSlice(b)!]);

        Assert.Equal(2, endpoints.Count);
        Assert.False(endpoints[0].Terminating);
        AssertFlows(Translate(service, a, b), ("10.96.0.1:80/TCP", "198.18.0.1:8080, 198.18.0.2:8080"));
    }

    [Fact]
    public void FqdnSlicesAreIgnored()
    {
        var map = Translate(Service("web", "10.96.0.1", Port("http", 80)),
            Slice("default", "web-fqdn", "web", "FQDN", [SlicePort("http", 80)], Endpoint("backend.example.com")),
            Slice("web-1", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1")));
        AssertFlows(map, ("10.96.0.1:80/TCP", "198.18.0.1:8080"));
    }

    public static TheoryData<string, Action<V1Service>> NotProxied => new()
    {
        { "clusterIP None", s => { s.Spec.ClusterIP = "None"; s.Spec.ClusterIPs = ["None"]; } },
        { "no clusterIP", s => { s.Spec.ClusterIP = ""; s.Spec.ClusterIPs = null; } },
        { "ExternalName", s => { s.Spec.Type = "ExternalName"; s.Spec.ExternalName = "example.com"; } },
        { "another proxy's service", s => s.Metadata.Labels = new Dictionary<string, string> { [WellKnownLabels.ServiceProxyName] = "other" } },
        { "headless label", s => s.Metadata.Labels = new Dictionary<string, string> { [WellKnownLabels.Headless] = "" } },
    };

    [Theory]
    [MemberData(nameof(NotProxied))]
    public void ServicesKubeProxySkipsProduceNoFrontends(string why, Action<V1Service> change)
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        change(service);
        var map = Translate([service, Service("other", "10.96.0.2", Port("http", 80))],
            Slice("web-1", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1")));
        Assert.True(map.Values.All(s => s.Name == "default/other:http"), why);
        Assert.NotNull(ClusterObjectParser.SkipReason(service));
    }

    [Fact]
    public void InternalTrafficPolicyLocalKeepsOnlyThisNodesEndpoints()
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        service.Spec.InternalTrafficPolicy = "Local";
        var slice = Slice("web-1", "web", [SlicePort("http", 8080)],
            Endpoint("198.18.0.1", node: ThisNode), Endpoint("198.18.0.2", node: "node-b"), Endpoint("198.18.0.3"));

        var lb = Translate(service, slice).Values.Single();

        Assert.Equal(ServiceFlags.ClusterIp | ServiceFlags.LocalOnly, lb.Flags);
        Assert.Equal(["198.18.0.1:8080"], lb.Backends.Select(b => b.ToString()));
    }

    [Fact]
    public void InternalTrafficPolicyLocalWithoutLocalEndpointsRefusesConnects()
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        service.Spec.InternalTrafficPolicy = "Local";
        var map = Translate(service, Slice("web-1", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.2", node: "node-b")));
        AssertFlows(map, ("10.96.0.1:80/TCP", Refused));
        Assert.True(map.Values.Single().Flags.HasFlag(ServiceFlags.LocalOnly));
    }

    [Fact]
    public void InternalTrafficPolicyLocalFallsBackToLocalServingTerminatingEndpoints()
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        service.Spec.InternalTrafficPolicy = "Local";
        var map = Translate(service, Slice("web-1", "web", [SlicePort("http", 8080)],
            Endpoint("198.18.0.1", ready: false, terminating: true, node: ThisNode),
            Endpoint("198.18.0.2", node: "node-b")));
        AssertFlows(map, ("10.96.0.1:80/TCP", "198.18.0.1:8080"));
    }

    public static TheoryData<int?, uint> AffinityTimeouts => new() { { null, 10800 }, { 60, 60 } };

    [Theory]
    [MemberData(nameof(AffinityTimeouts))]
    public void ClientIpAffinitySetsTheFlagAndTimeout(int? configured, uint expected)
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        service.Spec.SessionAffinity = "ClientIP";
        if (configured is { } seconds) service.Spec.SessionAffinityConfig = new() { ClientIP = new() { TimeoutSeconds = seconds } };

        var lb = Translate(service).Values.Single();

        Assert.Equal(ServiceFlags.ClusterIp | ServiceFlags.Affinity, lb.Flags);
        Assert.Equal(expected, lb.AffinityTimeoutSeconds);
    }

    [Fact]
    public void NoAffinityMeansNoTimeout()
    {
        var service = Service("web", "10.96.0.1", Port("http", 80));
        service.Spec.SessionAffinity = "None";
        service.Spec.SessionAffinityConfig = new() { ClientIP = new() { TimeoutSeconds = 60 } };
        Assert.Equal(0u, Translate(service).Values.Single().AffinityTimeoutSeconds);
    }

    [Fact]
    public void TheModelKeepsEveryFieldThatDecidesAFrontend()
    {
        var service = Service("web", "10.96.0.1", Port("http", 80, targetPort: "web"));
        service.Spec.Type = "LoadBalancer";
        service.Spec.Ports[0].NodePort = 30080;
        service.Spec.ExternalTrafficPolicy = "Local";
        service.Spec.HealthCheckNodePort = 31000;
        service.Spec.ExternalIPs = ["203.0.113.10"];
        service.Spec.TrafficDistribution = "PreferClose";
        service.Status = new() { LoadBalancer = new() { Ingress = [new() { Ip = "203.0.113.20" }, new() { Hostname = "lb.example.com" }] } };
        var slice = Slice("web-1", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1", node: "node-b", zone: "zone-1"));
        slice.Endpoints[0].Hints = new() { ForZones = [new() { Name = "zone-2" }, new() { Name = "zone-1" }] };
        var parser = new ClusterObjectParser();

        ServicePortInfo port = parser.ParseService(service)!.Ports.Single();
        SliceEndpoint endpoint = parser.ParseEndpointSlice(slice)!.Endpoints.Single();

        Assert.Equal(30080, port.NodePort);
        Assert.Equal(TrafficPolicy.Local, port.ExternalTrafficPolicy);
        Assert.Equal(TrafficPolicy.Cluster, port.InternalTrafficPolicy);
        Assert.Equal(31000, port.HealthCheckNodePort);
        Assert.Equal([IPAddress.Parse("203.0.113.10")], port.ExternalIPs);
        Assert.Equal([IPAddress.Parse("203.0.113.20")], port.LoadBalancerIngressIPs);
        Assert.Equal("web", port.TargetPort);
        Assert.Equal("PreferClose", port.TrafficDistribution);
        Assert.Equal("node-b", endpoint.NodeName);
        Assert.Equal("zone-1", endpoint.Zone);
        Assert.Equal(["zone-1", "zone-2"], endpoint.ZoneHints);
        Assert.Empty(endpoint.NodeHints);
        // eTP Local does not narrow what in-cluster clients reach (see FrontendKindTests).
        AssertFlows(Translate(service, slice),
            ("10.96.0.1:80/TCP", "198.18.0.1:8080"), ("0.0.0.0:30080/TCP", "198.18.0.1:8080"),
            ("203.0.113.10:80/TCP", "198.18.0.1:8080"), ("203.0.113.20:80/TCP", "198.18.0.1:8080"));
    }

    [Fact]
    public void InvalidObjectsAreSkippedWithAReasonWhileTheRestIsTranslated()
    {
        var broken = Service("broken", "10.96.0.5", Port("http", 70000));
        var good = Service("good", "10.96.0.6", Port("http", 80));
        var badSlice = Slice("good-bad", "good", [SlicePort("http", 8080)], Endpoint("198.18.0.x"));
        var goodSlice = Slice("good-1", "good", [SlicePort("http", 8080)], Endpoint("198.18.0.1"));

        var map = Translate([broken, good], badSlice, goodSlice);

        AssertFlows(map, ("10.96.0.6:80/TCP", "198.18.0.1:8080"));
        Assert.Single(map);
        Assert.Contains(log.Warnings, w => w.Contains("Service default/broken: spec.ports[0].port 70000 out of range 1..65535"));
        Assert.Contains(log.Warnings, w => w.Contains("EndpointSlice default/good-bad: endpoints[0].addresses[0] \"198.18.0.x\" is not an IP address"));
    }

    [Fact]
    public void TranslatingSomeServicesLeavesTheOthersOut()
    {
        var parser = new ClusterObjectParser();
        var state = ClusterState.FromObjects(
            [Service("a", "10.96.0.1", Port("http", 80)), Service("b", "10.96.0.2", Port("http", 80)), Service("c", "10.96.0.3", Port("http", 80))],
            [], parser);

        var map = new ServiceTranslator(ThisNode).Translate(state, [new ServiceName("default", "b"), new ServiceName("default", "gone")]);

        Assert.Equal(["default/b:http"], map.Values.Select(s => s.Name));
    }

    [Fact]
    public void TwoServicesClaimingOneFrontendResolveToTheFirstByNameWithAWarning()
    {
        var map = Translate([Service("zeta", "10.96.0.1", Port("http", 80)), Service("alpha", "10.96.0.1", Port("web", 80))]);
        Assert.Equal("default/alpha:web", map.Values.Single().Name);
        Assert.Contains(log.Warnings, w => w.Contains("default/zeta:http") && w.Contains("default/alpha:web"));
    }

    [Fact]
    public void TheFullTranslationEqualsATranslationOfEveryServiceByName()
    {
        // Three services claim one external IP: the smallest name wins on either path, whatever order the names come in.
        string[] names = ["web-c", "web-a", "web-b"];
        var services = names.Select((n, i) =>
        {
            var s = Service(n, $"198.18.0.{10 + i}", Port("http", 80));
            s.Spec.ExternalIPs = ["203.0.113.10"];
            return s;
        });
        var slices = names.Select((n, i) => Slice($"{n}-1", n, [SlicePort("http", 8080)], Endpoint($"198.18.1.{i + 1}"), Endpoint($"198.18.2.{i + 1}")));
        var state = ClusterState.FromObjects(services, slices, new ClusterObjectParser(log));
        var translator = new ServiceTranslator(ThisNode, log);

        var full = translator.Translate(state);
        var byName = translator.Translate(state, state.Services.Keys.Reverse().ToList());

        Assert.Equal(4, full.Count);
        Assert.Equal(byName.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), full.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)));
        var contested = full.Values.Single(s => s.Flags.HasFlag(ServiceFlags.ExternalIp)); // web-a is the second of names
        Assert.Equal("default/web-a:http", contested.Name);
        Assert.Equal(["198.18.1.2:8080", "198.18.2.2:8080"], contested.Backends.Select(b => b.ToString()));
    }

    [Fact]
    public void ALargeStateTranslatedOnSeveralCoresEqualsItsTranslationOnOneThreadAndByName()
    {
        // Enough services for several chunks, each claiming two of a few external IPs: the claims cross the chunks, and a
        // service may lose both, so only a merge in the services' order gives the owners and warnings of one thread.
        const int count = 4500; // chunks of 1024 services
        var names = Enumerable.Range(0, count).Select(i => $"svc-{i:x5}").Reverse().ToArray();
        var services = names.Select((n, i) =>
        {
            var s = Service(n, $"198.18.{i / 250}.{i % 250 + 1}", Port("http", 80));
            s.Spec.ExternalIPs = [$"203.0.113.{i % 7 + 1}", $"203.0.113.{(i + 3) % 7 + 1}"];
            return s;
        }).ToList();
        var slices = names.Select((n, i) => Slice($"{n}-1", n, [SlicePort("http", 8080)],
            Endpoint($"198.19.{i / 250}.{i % 250 + 1}", node: i % 3 == 0 ? ThisNode : "node-b"), Endpoint($"198.19.200.{i % 250 + 1}", ready: i % 5 != 0))).ToList();
        var state = ClusterState.FromObjects(services, slices, new ClusterObjectParser(log));
        var byNameLog = new ListLogger();
        var oneLog = new ListLogger();
        var severalLog = new ListLogger();

        var byName = new ServiceTranslator(ThisNode, byNameLog).Translate(state, state.Services.Keys.ToList());
        var one = new ServiceTranslator(ThisNode, oneLog) { Parallelism = 1 }.Translate(state);
        var several = new ServiceTranslator(ThisNode, severalLog) { Parallelism = 4, ParallelMinimum = 2048 }.Translate(state);

        Assert.Equal(count + 7, byName.Count);
        Assert.Equal(byName.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), one.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)));
        Assert.Equal(byName.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), several.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)));
        Assert.Equal(byNameLog.Warnings, oneLog.Warnings);
        Assert.Equal(byNameLog.Warnings, severalLog.Warnings);
        Assert.Equal(2 * count - 7, byNameLog.Warnings.Count);
        for (int ip = 1; ip <= 7; ip++)
        {
            string owner = names.Where((n, i) => i % 7 + 1 == ip || (i + 3) % 7 + 1 == ip).Min(StringComparer.Ordinal)!;
            Assert.Equal($"default/{owner}:http", several.Values.Single(s => s.Frontend.ToString() == $"203.0.113.{ip}:80/TCP").Name);
        }
    }
}
