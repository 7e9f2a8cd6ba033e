using CgroupLb.Model.Kubernetes;
using k8s.Models;
using static CgroupLb.Testing.KubeObjects;

namespace CgroupLb.Model.Tests;

public class ObjectValidatorTests
{
    private static V1Service ValidService() => Service("web", "10.96.0.10", Port("http", 80, targetPort: "8080"), Port("dns", 53, "UDP", "dns"));

    public static TheoryData<string, Action<V1Service>, string> BrokenServices => new()
    {
        { "port too large", s => s.Spec.Ports[0].Port = 70000, "Service default/web: spec.ports[0].port 70000 out of range 1..65535" },
        { "port zero", s => s.Spec.Ports[1].Port = 0, "Service default/web: spec.ports[1].port 0 out of range 1..65535" },
        { "cluster IP garbage", s => { s.Spec.ClusterIP = "10.96.0.300"; s.Spec.ClusterIPs = null; }, "Service default/web: spec.clusterIP \"10.96.0.300\" is not an IP address or None" },
        { "cluster IP shorthand", s => { s.Spec.ClusterIP = "10"; s.Spec.ClusterIPs = null; }, "Service default/web: spec.clusterIP \"10\" is not an IP address or None" },
        { "cluster IPs disagree", s => s.Spec.ClusterIPs = ["10.96.0.11"], "Service default/web: spec.clusterIPs[0] \"10.96.0.11\" must equal spec.clusterIP \"10.96.0.10\"" },
        { "two IPv4 cluster IPs", s => s.Spec.ClusterIPs = ["10.96.0.10", "10.96.0.11"], "Service default/web: spec.clusterIPs[1] \"10.96.0.11\" repeats the IPv4 family" },
        { "unknown protocol", s => s.Spec.Ports[0].Protocol = "ICMP", "Service default/web: spec.ports[0].protocol \"ICMP\" is not one of TCP, UDP, SCTP" },
        { "unnamed port among several", s => s.Spec.Ports[1].Name = null, "Service default/web: spec.ports[1].name is required when a service has more than one port" },
        { "duplicate port name", s => s.Spec.Ports[1].Name = "http", "Service default/web: spec.ports[1].name \"http\" is used by more than one port" },
        { "target port out of range", s => s.Spec.Ports[0].TargetPort = (IntOrString)"0", "Service default/web: spec.ports[0].targetPort 0 out of range 1..65535" },
        { "node port out of range", s => s.Spec.Ports[0].NodePort = 65536, "Service default/web: spec.ports[0].nodePort 65536 out of range 1..65535" },
        { "affinity timeout too long", s => { s.Spec.SessionAffinity = "ClientIP"; s.Spec.SessionAffinityConfig = new() { ClientIP = new() { TimeoutSeconds = 86401 } }; }, "Service default/web: spec.sessionAffinityConfig.clientIP.timeoutSeconds 86401 out of range 1..86400" },
        { "unknown affinity", s => s.Spec.SessionAffinity = "Cookie", "Service default/web: spec.sessionAffinity \"Cookie\" is not one of None, ClientIP" },
        { "unknown internal policy", s => s.Spec.InternalTrafficPolicy = "Nearby", "Service default/web: spec.internalTrafficPolicy \"Nearby\" is not one of Cluster, Local" },
        { "unknown type", s => s.Spec.Type = "Magic", "Service default/web: spec.type \"Magic\" is not one of ClusterIP, NodePort, LoadBalancer, ExternalName" },
        { "bad external IP", s => s.Spec.ExternalIPs = ["203.0.113.1", "nope"], "Service default/web: spec.externalIPs[1] \"nope\" is not an IP address" },
        { "bad ingress IP", s => s.Status = new() { LoadBalancer = new() { Ingress = [new() { Ip = "1.2.3" }] } }, "Service default/web: status.loadBalancer.ingress[0].ip \"1.2.3\" is not an IP address" },
        { "unknown ingress ipMode", s => s.Status = new() { LoadBalancer = new() { Ingress = [new() { Ip = "203.0.113.1", IpMode = "vip" }] } }, "Service default/web: status.loadBalancer.ingress[0].ipMode \"vip\" is not one of VIP, Proxy" },
        { "no spec", s => s.Spec = null, "Service default/web: spec is required" },
        { "ExternalName without name", s => { s.Spec.Type = "ExternalName"; s.Spec.ClusterIP = null; s.Spec.ClusterIPs = null; }, "Service default/web: spec.externalName is required when spec.type is ExternalName" },
    };

    [Theory]
    [MemberData(nameof(BrokenServices))]
    public void BrokenServiceIsReportedWithObjectFieldAndValue(string why, Action<V1Service> breakIt, string expected)
    {
        V1Service service = ValidService();
        breakIt(service);
        IReadOnlyList<string> errors = ObjectValidator.Validate(service);
        Assert.True(errors.SequenceEqual([expected]), $"{why}: got [{string.Join(" | ", errors)}]");
    }

    [Fact]
    public void ValidServicesHaveNoErrors()
    {
        var headless = Service("db", "None", Port(null, 5432));
        var dualStack = Service("dual", "10.96.0.20", Port(null, 80));
        dualStack.Spec.ClusterIPs = ["10.96.0.20", "fd00::20"];
        var sctp = Service("sig", "10.96.0.30", Port(null, 2905, "SCTP"));
        var externalName = Service("ext", null);
        externalName.Spec.Type = "ExternalName";
        externalName.Spec.ExternalName = "example.com";

        foreach (var service in new[] { ValidService(), headless, dualStack, sctp, externalName })
            Assert.Empty(ObjectValidator.Validate(service));
    }

    /// <summary>The families are tracked per entry: a third entry repeating the second family is named too, and so are repeated port names.</summary>
    [Fact]
    public void EachRepeatedFamilyAndPortNameIsReported()
    {
        V1Service service = ValidService();
        service.Spec.ClusterIPs = ["10.96.0.10", "fd00::10", "fd00::11"];
        service.Spec.Ports.Add(Port("http", 81));
        service.Spec.Ports.Add(Port("http", 82));
        Assert.Equal(
            [
                "Service default/web: spec.clusterIPs has 3 entries, at most 2 (one per family) are allowed",
                "Service default/web: spec.clusterIPs[2] \"fd00::11\" repeats the IPv6 family",
                "Service default/web: spec.ports[2].name \"http\" is used by more than one port",
                "Service default/web: spec.ports[3].name \"http\" is used by more than one port",
            ],
            ObjectValidator.Validate(service));
    }

    [Fact]
    public void EveryProblemIsReportedNotJustTheFirst()
    {
        V1Service service = ValidService();
        service.Spec.Ports[0].Port = -1;
        service.Spec.Ports[1].Port = 65536;
        Assert.Equal(2, ObjectValidator.Validate(service).Count);
    }

    private static V1EndpointSlice ValidSlice() =>
        Slice("web-abc", "web", [SlicePort("http", 8080)], Endpoint("198.18.0.1"), Endpoint("198.18.0.2", ready: false));

    public static TheoryData<string, Action<V1EndpointSlice>, string> BrokenSlices => new()
    {
        { "port out of range", s => s.Ports[0].Port = 70000, "EndpointSlice default/web-abc: ports[0].port 70000 out of range 1..65535" },
        { "address does not parse", s => s.Endpoints[1].Addresses = ["198.18.0.x"], "EndpointSlice default/web-abc: endpoints[1].addresses[0] \"198.18.0.x\" is not an IP address" },
        { "address of wrong family", s => s.Endpoints[0].Addresses = ["fd00::1"], "EndpointSlice default/web-abc: endpoints[0].addresses[0] \"fd00::1\" is not an IPv4 address" },
        { "endpoint without address", s => s.Endpoints[0].Addresses = [], "EndpointSlice default/web-abc: endpoints[0].addresses must hold at least one address" },
        { "unknown address type", s => s.AddressType = "IPX", "EndpointSlice default/web-abc: addressType \"IPX\" is not one of IPv4, IPv6, FQDN" },
        { "no service label", s => s.Metadata.Labels.Clear(), "EndpointSlice default/web-abc: label kubernetes.io/service-name is required to say which Service the slice belongs to" },
        { "duplicate port names", s => s.Ports.Add(SlicePort("http", 9090)), "EndpointSlice default/web-abc: ports[1].name \"http\" is used by more than one port" },
        { "unknown protocol", s => s.Ports[0].Protocol = "QUIC", "EndpointSlice default/web-abc: ports[0].protocol \"QUIC\" is not one of TCP, UDP, SCTP" },
    };

    [Theory]
    [MemberData(nameof(BrokenSlices))]
    public void BrokenSliceIsReportedWithObjectFieldAndValue(string why, Action<V1EndpointSlice> breakIt, string expected)
    {
        V1EndpointSlice slice = ValidSlice();
        breakIt(slice);
        IReadOnlyList<string> errors = ObjectValidator.Validate(slice);
        Assert.True(errors.SequenceEqual([expected]), $"{why}: got [{string.Join(" | ", errors)}]");
    }

    [Fact]
    public void ValidSlicesHaveNoErrors()
    {
        var fqdn = Slice("default", "ext-1", "ext", "FQDN", [SlicePort("http", 80)], Endpoint("example.com"));
        var v6 = Slice("default", "web-v6", "web", "IPv6", [SlicePort("http", 8080)], Endpoint("fd00::1"));
        foreach (var slice in new[] { ValidSlice(), fqdn, v6 })
            Assert.Empty(ObjectValidator.Validate(slice));
    }
}
