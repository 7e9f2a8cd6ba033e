using System.Text;
using System.Text.Json;
using CgroupLb.Kubernetes.Decoding;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.Services;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// Our list decoder against KubernetesClient's: on every object of <see cref="ListPageJsonCorpus"/> it yields exactly the
/// fields the model reads, with the values KubernetesClient's decoding gives them (compared serialised), and the model
/// draws the same conclusions from both (parse, validation, trigger time). Malformed objects are refused alone.
/// </summary>
public sealed class ListPageJsonTests
{
    [Fact]
    public void ServicesDecodeToWhatKubernetesClientReadsOfThem()
    {
        var json = ListPageJsonCorpus.Page("ServiceList", ListPageJsonCorpus.Services, "5000", "next-page");
        var full = KubernetesJson.Deserialize<V1ServiceList>(json);
        var page = ListPageJson.Services(Encoding.UTF8.GetBytes(json));

        Assert.Empty(page.Refused);
        Assert.Equal("5000", page.ResourceVersion);
        Assert.Equal("next-page", page.Continue);
        Assert.Equal(full.Items.Count, page.Items.Count);
        var parser = new ClusterObjectParser();
        for (var i = 0; i < full.Items.Count; i++)
        {
            Assert.Equal(KubernetesJson.Serialize(ModelFields(full.Items[i])), KubernetesJson.Serialize(page.Items[i]));
            Assert.Equal(ObjectValidator.Validate(full.Items[i]), ObjectValidator.Validate(page.Items[i]));
            Assert.Equal(parser.ParseService(full.Items[i]), parser.ParseService(page.Items[i]));
        }

        // managedFields and the annotations the model does not read are not materialised at all.
        Assert.Null(page.Items[0].Metadata.ManagedFields);
        Assert.Null(page.Items[0].Metadata.Annotations);
        Assert.NotNull(full.Items[0].Metadata.ManagedFields);
    }

    [Fact]
    public void EndpointSlicesDecodeToWhatKubernetesClientReadsOfThem()
    {
        var json = ListPageJsonCorpus.Page("EndpointSliceList", ListPageJsonCorpus.Slices);
        var full = KubernetesJson.Deserialize<V1EndpointSliceList>(json);
        var page = ListPageJson.EndpointSlices(Encoding.UTF8.GetBytes(json));

        Assert.Empty(page.Refused);
        Assert.Null(page.Continue);
        Assert.Equal(full.Items.Count, page.Items.Count);
        var parser = new ClusterObjectParser();
        for (var i = 0; i < full.Items.Count; i++)
        {
            Assert.Equal(KubernetesJson.Serialize(ModelFields(full.Items[i])), KubernetesJson.Serialize(page.Items[i]));
            Assert.Equal(ObjectValidator.Validate(full.Items[i]), ObjectValidator.Validate(page.Items[i]));
            Assert.Equal(parser.ParseEndpointSlice(full.Items[i]), parser.ParseEndpointSlice(page.Items[i]));
            Assert.Equal(ChangeTriggerTime.Of(full.Items[i].Metadata), ChangeTriggerTime.Of(page.Items[i].Metadata));
        }

        Assert.NotNull(ChangeTriggerTime.Of(page.Items[0].Metadata));
        Assert.Equal([ChangeTriggerTime.Annotation], page.Items[0].Metadata.Annotations.Keys);
    }

    [Fact]
    public void NodesDecodeToWhatKubernetesClientReadsOfThem()
    {
        var json = ListPageJsonCorpus.Page("NodeList", ListPageJsonCorpus.Nodes);
        var full = KubernetesJson.Deserialize<V1NodeList>(json);
        var page = ListPageJson.Nodes(Encoding.UTF8.GetBytes(json));

        Assert.Empty(page.Refused);
        Assert.Equal(full.Items.Count, page.Items.Count);
        for (var i = 0; i < full.Items.Count; i++)
        {
            Assert.Equal(KubernetesJson.Serialize(ModelFields(full.Items[i])), KubernetesJson.Serialize(page.Items[i]));
            Assert.Equal(ClusterObjectParser.ParseNode(full.Items[i]), ClusterObjectParser.ParseNode(page.Items[i]));
            Assert.Equal(ClusterObjectParser.ParseNodeAddresses(full.Items[i]).ToArray(), ClusterObjectParser.ParseNodeAddresses(page.Items[i]).ToArray());
        }
    }

    public static TheoryData<string, string, string> MalformedServices => new()
    {
        { """{"metadata": {"name": "bad", "namespace": "default"}, "spec": {"ports": [{"port": "80"}]}}""", "default/bad", "spec.ports[0].port: expected an integer, found a string" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "spec": {"ports": [{"port": null}]}}""", "default/bad", "spec.ports[0].port: expected an integer, found null" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "spec": {"ports": [{"port": 80.5}]}}""", "default/bad", "spec.ports[0].port: 80.5 is not a 32-bit integer" },
        { """{"spec": {"clusterIPs": ["198.18.0.1", 7]}, "metadata": {"name": "bad", "namespace": "default"}}""", "default/bad", "spec.clusterIPs[1]: expected a string, found a number" },
        { """{"metadata": {"name": "bad", "namespace": "default", "labels": {"app": 1}}}""", "default/bad", "metadata.labels.app: expected a string, found a number" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "spec": {"ports": {"port": 80}}}""", "default/bad", "spec.ports: expected a list, found an object" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "spec": {"ports": [{"port": 80, "targetPort": true}]}}""", "default/bad", "spec.ports[0].targetPort: expected an integer or a name, found a boolean" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "spec": {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": "10"}}}}""", "default/bad", "spec.sessionAffinityConfig.clientIP.timeoutSeconds: expected an integer, found a string" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "status": {"loadBalancer": {"ingress": [{"ip": ["203.0.113.1"]}]}}}""", "default/bad", "status.loadBalancer.ingress[0].ip: expected a string, found a list" },
        { """{"metadata": {"name": 7, "namespace": "default"}}""", "<unnamed>", "metadata.name: expected a string, found a number" },
        { """{"metadata": "bad"}""", "<unnamed>", "metadata: expected an object, found a string" },
    };

    [Theory]
    [MemberData(nameof(MalformedServices))]
    public void AMalformedServiceIsRefusedAloneNamingItAndTheField(string malformed, string key, string reason)
    {
        var good = ListPageJsonCorpus.Services[0];
        var json = ListPageJsonCorpus.Page("ServiceList", [good, malformed, ListPageJsonCorpus.Services[1]]);

        var page = ListPageJson.Services(Encoding.UTF8.GetBytes(json));

        Assert.Equal(["web", "dual"], page.Items.Select(s => s.Metadata.Name));
        var refused = Assert.Single(page.Refused);
        Assert.Equal($"{key}: {reason}", refused.ToString());
        Assert.Equal("5000", page.ResourceVersion);
        // KubernetesClient's decoder fails the whole page on the same input.
        Assert.ThrowsAny<Exception>(() => KubernetesJson.Deserialize<V1ServiceList>(json));
    }

    public static TheoryData<string, string> MalformedSlices => new()
    {
        { """{"metadata": {"name": "bad", "namespace": "default"}, "endpoints": [{"addresses": ["198.19.0.1"], "conditions": {"ready": "true"}}]}""", "default/bad: endpoints[0].conditions.ready: expected true or false, found a string" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "endpoints": [{"addresses": "198.19.0.1"}]}""", "default/bad: endpoints[0].addresses: expected a list, found a string" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "endpoints": [{}, {"addresses": [1]}]}""", "default/bad: endpoints[1].addresses[0]: expected a string, found a number" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "endpoints": [{"hints": {"forZones": [{"name": 3}]}}]}""", "default/bad: endpoints[0].hints.forZones[0].name: expected a string, found a number" },
        { """{"metadata": {"name": "bad", "namespace": "default"}, "ports": [{"port": 99999999999}]}""", "default/bad: ports[0].port: 99999999999 is not a 32-bit integer" },
        { """{"addressType": 4, "metadata": {"name": "bad", "namespace": "default"}}""", "default/bad: addressType: expected a string, found a number" },
        { "null", "<unnamed>: items[1] is null" },
        { "\"web\"", "<unnamed>: items[1] is not an object" },
    };

    [Theory]
    [MemberData(nameof(MalformedSlices))]
    public void AMalformedSliceIsRefusedAloneNamingItAndTheField(string malformed, string expected)
    {
        var json = ListPageJsonCorpus.Page("EndpointSliceList", [ListPageJsonCorpus.Slices[0], malformed, ListPageJsonCorpus.Slices[1]]);

        var page = ListPageJson.EndpointSlices(Encoding.UTF8.GetBytes(json));

        Assert.Equal(["web-abc12", "dual-v6"], page.Items.Select(s => s.Metadata.Name));
        Assert.Equal(expected, Assert.Single(page.Refused).ToString());
    }

    [Fact]
    public void AMalformedNodeIsRefusedAlone()
    {
        var malformed = """{"metadata": {"name": "node-c"}, "status": {"addresses": [{"type": "InternalIP", "address": {"v4": "192.0.2.3"}}]}}""";
        var page = ListPageJson.Nodes(Encoding.UTF8.GetBytes(ListPageJsonCorpus.Page("NodeList", [malformed, .. ListPageJsonCorpus.Nodes])));

        Assert.Equal(["node-a", "node-b"], page.Items.Select(n => n.Metadata.Name));
        Assert.Equal("node-c: status.addresses[0].address: expected a string, found an object", Assert.Single(page.Refused).ToString());
    }

    [Theory]
    [InlineData("""{"metadata": {"resourceVersion": "1"}, "items": [{"metadata": {"name": "a"}""", typeof(JsonException))]
    [InlineData("""[]""", typeof(InvalidDataException))]
    [InlineData("""{"metadata": {"resourceVersion": 1}, "items": []}""", typeof(InvalidDataException))]
    [InlineData("""{"metadata": {"resourceVersion": "1"}, "items": {}}""", typeof(InvalidDataException))]
    [InlineData("""not json""", typeof(JsonException))]
    public void APageThatIsNotAListFailsAsAWhole(string json, Type exception)
    {
        var thrown = Record.Exception(() => ListPageJson.Services(Encoding.UTF8.GetBytes(json)));

        Assert.IsAssignableFrom(exception, thrown);
    }

    [Fact]
    public void AnEmptyListHasNoItemsAndItsVersion()
    {
        var page = ListPageJson.Services("""{"kind": "ServiceList", "metadata": {"resourceVersion": "9"}, "items": null}"""u8);

        Assert.Empty(page.Items);
        Assert.Equal("9", page.ResourceVersion);
        Assert.Null(page.Continue);
    }

    // What the decoder promises to read, copied field by field out of KubernetesClient's complete object: a second,
    // independent statement of the field list, so a field the decoder forgets shows up as a difference.
    private static V1Service ModelFields(V1Service full) => new()
    {
        ApiVersion = full.ApiVersion,
        Kind = full.Kind,
        Metadata = ModelFields(full.Metadata),
        Spec = full.Spec is not { } spec ? null : new V1ServiceSpec
        {
            Type = spec.Type,
            ClusterIP = spec.ClusterIP,
            ClusterIPs = spec.ClusterIPs,
            IpFamilies = spec.IpFamilies,
            IpFamilyPolicy = spec.IpFamilyPolicy,
            Ports = spec.Ports?.Select(p => p is null ? null! : new V1ServicePort
            {
                Name = p.Name, Protocol = p.Protocol, Port = p.Port, TargetPort = p.TargetPort, NodePort = p.NodePort, AppProtocol = p.AppProtocol,
            }).ToList(),
            ExternalIPs = spec.ExternalIPs,
            ExternalName = spec.ExternalName,
            SessionAffinity = spec.SessionAffinity,
            SessionAffinityConfig = spec.SessionAffinityConfig is not { } affinity ? null : new V1SessionAffinityConfig
            {
                ClientIP = affinity.ClientIP is null ? null : new V1ClientIPConfig { TimeoutSeconds = affinity.ClientIP.TimeoutSeconds },
            },
            ExternalTrafficPolicy = spec.ExternalTrafficPolicy,
            InternalTrafficPolicy = spec.InternalTrafficPolicy,
            HealthCheckNodePort = spec.HealthCheckNodePort,
            TrafficDistribution = spec.TrafficDistribution,
        },
        Status = full.Status is not { } status ? null : new V1ServiceStatus
        {
            LoadBalancer = status.LoadBalancer is null ? null : new V1LoadBalancerStatus
            {
                Ingress = status.LoadBalancer.Ingress?.Select(i => i is null ? null! : new V1LoadBalancerIngress { Ip = i.Ip, IpMode = i.IpMode, Hostname = i.Hostname }).ToList(),
            },
        },
    };

    private static V1EndpointSlice ModelFields(V1EndpointSlice full) => new()
    {
        ApiVersion = full.ApiVersion,
        Kind = full.Kind,
        Metadata = ModelFields(full.Metadata),
        AddressType = full.AddressType,
        Endpoints = full.Endpoints?.Select(e => e is null ? null! : new V1Endpoint
        {
            Addresses = e.Addresses,
            Conditions = e.Conditions is null ? null : new V1EndpointConditions { Ready = e.Conditions.Ready, Serving = e.Conditions.Serving, Terminating = e.Conditions.Terminating },
            NodeName = e.NodeName,
            Zone = e.Zone,
            Hints = e.Hints is null ? null : new V1EndpointHints
            {
                ForZones = e.Hints.ForZones?.Select(z => new V1ForZone { Name = z.Name }).ToList(),
                ForNodes = e.Hints.ForNodes?.Select(n => new V1ForNode { Name = n.Name }).ToList(),
            },
        }).ToList(),
        Ports = full.Ports?.Select(p => new Discoveryv1EndpointPort { Name = p.Name, Port = p.Port, Protocol = p.Protocol, AppProtocol = p.AppProtocol }).ToList(),
    };

    private static V1Node ModelFields(V1Node full) => new()
    {
        ApiVersion = full.ApiVersion,
        Kind = full.Kind,
        Metadata = ModelFields(full.Metadata),
        Status = full.Status is null ? null : new V1NodeStatus
        {
            Addresses = full.Status.Addresses?.Select(a => new V1NodeAddress { Address = a.Address, Type = a.Type }).ToList(),
        },
    };

    private static V1ObjectMeta? ModelFields(V1ObjectMeta? full) => full is null ? null : new V1ObjectMeta
    {
        Name = full.Name,
        NamespaceProperty = full.NamespaceProperty,
        Uid = full.Uid,
        ResourceVersion = full.ResourceVersion,
        Labels = full.Labels,
        Annotations = full.Annotations?.Where(a => a.Key == ChangeTriggerTime.Annotation).ToDictionary() is { Count: > 0 } kept ? kept : null,
    };
}
