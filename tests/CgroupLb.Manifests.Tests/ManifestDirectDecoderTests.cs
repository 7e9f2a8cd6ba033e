using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// The direct decoder (<see cref="ManifestDirectDecoder"/>) must give exactly the object the JSON path gives (compared
/// by KubernetesClient's own serialization), or decline so the JSON path decodes it: on every object of the test
/// corpus (<see cref="BlockYamlParserTests.Corpus"/>), on seeded one-character edits of it, on a Service, slice and Node
/// using every field the model reads, and on a list of inputs it must leave to the JSON path. Whole documents (errors
/// with their positions and wording included) come out the same with and without it.
/// </summary>
public partial class ManifestDirectDecoderTests
{
    [Fact]
    public void Every_object_of_the_test_manifests_decodes_directly_as_through_JSON_or_is_left_to_it()
    {
        var (objects, direct) = (0, 0);
        foreach (var (name, text, _) in BlockYamlParserTests.Corpus())
        {
            var (checkedObjects, decoded) = AssertSameObjectsOrDeclined(name, text);
            objects += checkedObjects;
            direct += decoded;
        }

        // Not vacuous: the builders, the demo and most literal manifests are decoded directly.
        Assert.True(objects > 25, $"only {objects} objects in the corpus");
        Assert.True(direct > objects / 2, $"the direct decoder took only {direct} of {objects} objects");
    }

    [Fact]
    public void Single_character_edits_of_manifests_decode_alike_or_are_left_to_the_JSON_path()
    {
        var random = new Random(20261128);
        const string Alphabet = " -:#'\"[]{},&*!|>?\n\\ax0.1~";
        var (variants, objects, direct) = (0, 0, 0);
        foreach (var (name, text, _) in BlockYamlParserTests.Corpus().Where(d => ObjectKind().IsMatch(d.Text)))
        {
            for (var i = 0; i < 60; i++)
            {
                var at = random.Next(text.Length);
                var variant = random.Next(3) switch
                {
                    0 => text.Remove(at, 1),
                    1 => text.Insert(at, Alphabet[random.Next(Alphabet.Length)].ToString()),
                    _ => text.Remove(at, 1).Insert(at, Alphabet[random.Next(Alphabet.Length)].ToString()),
                };
                var (checkedObjects, decoded) = AssertSameObjectsOrDeclined($"{name}, edited at {at}", variant);
                objects += checkedObjects;
                direct += decoded;
                AssertSameDocuments($"{name}, edited at {at}", variant);
                variants++;
            }
        }

        Assert.True(variants > 1200, $"only {variants} variants");
        Assert.True(objects > 800, $"only {objects} edited objects");
        Assert.True(direct > objects / 4, $"only {direct} of {objects} edited objects were decoded directly");
    }

    [Fact]
    public void Whole_documents_come_out_the_same_with_and_without_the_direct_decoder()
    {
        foreach (var (name, text, _) in BlockYamlParserTests.Corpus())
        {
            AssertSameDocuments(name, text);
        }
    }

    [Theory]
    [InlineData(RichService)]
    [InlineData(RichSlice)]
    [InlineData(RichNode)]
    [InlineData("apiVersion: v1\nkind: Service\nmetadata:\n  name: bare\n")]
    [InlineData("apiVersion: v1\nkind: Service\nmetadata: {name: flow, labels: {}}\nspec: {ports: [], selector: {}, clusterIPs: []}\nstatus: {}\n")]
    [InlineData("apiVersion: v1\nkind: Service\nmetadata:\n  name: nulls\n  labels:\n  creationTimestamp: null\nspec:\n  selector: ~\n  type: null\n  ports:\n  - port: 80\n    targetPort: http\n    nodePort: Null\n")]
    [InlineData("apiVersion: v1\nkind: Service\nmetadata:\n  name: text-of-other-types\n  labels:\n    number: 1.50\n    yes: true\n    '<<': quoted-merge-key-is-a-key\n  annotations:\n    '80': 08\nspec:\n  clusterIP: '198.51.100.1'\n  ports:\n  - port: -1\n    name: 0123\n    targetPort: '8080'\n")]
    public void Shapes_manifests_use_are_decoded_directly_and_equal_to_the_JSON_path(string text)
    {
        var (objects, direct) = AssertSameObjectsOrDeclined("shape", text);
        Assert.Equal(1, objects);
        Assert.Equal(1, direct);
        AssertSameDocuments("shape", text);
    }

    [Theory]
    [InlineData("spec:\n  ports:\n  - port: \"80\"\n")]
    [InlineData("spec:\n  ports:\n  - port: 80\n    targetPort: 1.5\n")]
    [InlineData("spec:\n  ports:\n  - port: 80\n    targetPort: true\n")]
    [InlineData("spec:\n  ports:\n  - port: 8e1\n")]
    [InlineData("spec:\n  ports:\n  - port: 080\n")]
    [InlineData("spec:\n  ports:\n  - port: -0\n")]
    [InlineData("spec:\n  ports:\n  - port:\n")]
    [InlineData("spec:\n  ports:\n  - port: 99999999999\n")]
    [InlineData("spec:\n  ports:\n  - ~\n")]
    [InlineData("spec:\n  ports:\n  - 80\n")]
    [InlineData("spec:\n  clusterIP: [a]\n")]
    [InlineData("spec:\n  clusterIPs: [a, ~]\n")]
    [InlineData("spec:\n  clusterIPs: a\n")]
    [InlineData("spec:\n  selector: {app: ~}\n")]
    [InlineData("spec:\n  selector: {app: a, app: b}\n")]
    [InlineData("spec:\n  selector: {<<: {app: a}}\n")]
    [InlineData("spec:\n  publishNotReadyAddresses: \"true\"\n")]
    [InlineData("spec:\n  publishNotReadyAddresses: yes\n")]
    [InlineData("spec:\n  misspelt: 1\n")]
    [InlineData("spec:\n  type: ClusterIP\n  type: NodePort\n")]
    [InlineData("spec: ClusterIP\n")]
    [InlineData("status:\n  conditions: []\n")]
    [InlineData("creationTimestamp: 2026-11-28T00:00:00Z\n")]
    public void Inputs_it_would_have_to_interpret_are_left_to_the_JSON_path(string tail)
    {
        var text = tail.StartsWith("creationTimestamp", StringComparison.Ordinal)
            ? $"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  {tail}"
            : $"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n{tail}";
        var tree = YamlEventTree.Parse(text);
        Assert.True(tree.ParsedBySubset, "the subset parser declined the text; the case tests nothing");
        Assert.Null(ManifestDirectDecoder.TryDecode(ManifestKind.Service, tree, tree.Roots[0]));
        AssertSameDocuments("declined", text);
    }

    [Fact]
    public void A_boolean_target_port_is_the_documents_error_naming_the_field()
    {
        var text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n    targetPort: true\n";
        var document = Assert.Single(ManifestDocumentParser.Parse("m.yaml", YamlDocumentSplitter.Split(text)[0]));
        Assert.Null(document.Object);
        Assert.Equal("line 8 column 5: spec.ports[0].targetPort cannot be read as IntOrString", Assert.Single(document.Errors).Reason);
    }

    [Fact]
    public void Documents_parsed_one_after_another_keep_their_own_objects_while_the_parse_buffers_are_reused()
    {
        var texts = new[] { RichSlice, Yaml.Service("a", "198.51.100.1"), RichService, "a: [\n", RichNode, Yaml.Slice("s", "a", "198.18.0.1") };
        var first = texts.Select(t => ManifestDocumentParser.Parse("m.yaml", YamlDocumentSplitter.Split(t)[0])).ToList();
        var firstJson = first.Select(Describe).ToList();
        // Parse everything again (the buffers of the first round are handed on and overwritten), then compare the first round.
        var again = texts.Select(t => Describe(ManifestDocumentParser.Parse("m.yaml", YamlDocumentSplitter.Split(t)[0]))).ToList();
        Assert.Equal(firstJson, first.Select(Describe));
        Assert.Equal(firstJson, again);
    }

    [Fact]
    public void A_tree_YamlDotNet_parsed_is_always_left_to_the_JSON_path()
    {
        var tree = YamlEventTree.ParseWithYamlDotNet(RichService);
        Assert.Null(ManifestDirectDecoder.TryDecode(ManifestKind.Service, tree, tree.Roots[0]));
    }

    [Fact]
    public void The_fields_the_model_reads_are_filled_by_the_direct_decoder()
    {
        var tree = YamlEventTree.Parse(RichService);
        var service = Assert.IsType<V1Service>(ManifestDirectDecoder.TryDecode(ManifestKind.Service, tree, tree.Roots[0]));
        Assert.Equal(["198.51.100.10", "2001:db8::10"], service.Spec.ClusterIPs);
        Assert.Equal("8080", service.Spec.Ports[0].TargetPort.Value);
        Assert.Equal("http", service.Spec.Ports[1].TargetPort.Value);
        Assert.Equal(30080, service.Spec.Ports[0].NodePort);
        Assert.Equal(600, service.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds);
        Assert.Equal("Proxy", service.Status.LoadBalancer.Ingress[0].IpMode);
        Assert.Equal("2026-11-28T00:00:00Z", service.Metadata.Annotations["endpoints.kubernetes.io/last-change-trigger-time"]);

        tree = YamlEventTree.Parse(RichSlice);
        var slice = Assert.IsType<V1EndpointSlice>(ManifestDirectDecoder.TryDecode(ManifestKind.EndpointSlice, tree, tree.Roots[0]));
        Assert.Equal(false, slice.Endpoints[0].Conditions.Serving);
        Assert.Equal("zone-a", slice.Endpoints[0].Hints.ForZones[0].Name);
        Assert.Equal("node-b", slice.Endpoints[0].Hints.ForNodes[0].Name);
    }

    private const string RichService = """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: shop
          uid: 3f0c-11
          resourceVersion: "42"
          generation: 3
          labels:
            app: web
            tier: "1"
          annotations:
            endpoints.kubernetes.io/last-change-trigger-time: "2026-11-28T00:00:00Z"
            note: plain text, with a comma
          finalizers: [service.kubernetes.io/load-balancer-cleanup]
          ownerReferences:
          - {apiVersion: v1, kind: Thing, name: owner, uid: u-1, controller: true, blockOwnerDeletion: false}
          creationTimestamp: null
        spec:
          type: LoadBalancer
          clusterIP: 198.51.100.10
          clusterIPs:
          - 198.51.100.10
          - 2001:db8::10
          ipFamilies: [IPv4, IPv6]
          ipFamilyPolicy: PreferDualStack
          externalIPs: ["192.0.2.7"]
          loadBalancerIP: 203.0.113.9
          loadBalancerSourceRanges: [203.0.113.0/24]
          loadBalancerClass: example.com/lb
          allocateLoadBalancerNodePorts: true
          externalTrafficPolicy: Local
          internalTrafficPolicy: Cluster
          healthCheckNodePort: 32000
          publishNotReadyAddresses: false
          trafficDistribution: PreferClose
          sessionAffinity: ClientIP
          sessionAffinityConfig:
            clientIP:
              timeoutSeconds: 600
          selector:
            app: web
          ports:
          - name: http
            port: 80
            targetPort: 8080
            nodePort: 30080
            protocol: TCP
            appProtocol: http
          - name: named
            port: 81
            targetPort: http
            protocol: UDP
        status:
          loadBalancer:
            ingress:
            - ip: 203.0.113.9
              ipMode: Proxy
              ports:
              - port: 80
                protocol: TCP
                error: ""
            - hostname: lb.example.com
        """;

    private const string RichSlice = """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-abc
          namespace: shop
          labels:
            kubernetes.io/service-name: web
            endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
          annotations:
            endpoints.kubernetes.io/last-change-trigger-time: "2026-11-28T00:00:00Z"
          generateName: web-
        addressType: IPv4
        ports:
        - name: http
          port: 8080
          protocol: TCP
          appProtocol: http
        - name: ""
          port:
        endpoints:
        - addresses: ["198.18.1.2"]
          conditions: {ready: false, serving: false, terminating: true}
          nodeName: node-a
          zone: zone-a
          hostname: web-0
          hints:
            forZones: [{name: zone-a}]
            forNodes:
            - name: node-b
          targetRef: {kind: Pod, name: web-0, namespace: shop, uid: p-1, resourceVersion: "7", apiVersion: v1, fieldPath: x}
          deprecatedTopology: {topology.kubernetes.io/zone: zone-a}
        - addresses:
          - 198.18.1.3
          conditions: {}
        """;

    private const string RichNode = """
        apiVersion: v1
        kind: Node
        metadata:
          name: node-a
          labels:
            kubernetes.io/hostname: node-a
            topology.kubernetes.io/zone: zone-a
        spec:
          podCIDR: 198.18.0.0/24
          podCIDRs: [198.18.0.0/24, "2001:db8:1::/64"]
          providerID: fake://node-a
          unschedulable: false
        status:
          addresses:
          - type: InternalIP
            address: 192.0.2.10
          - {type: Hostname, address: node-a}
          phase: Running
        """;

    /// <summary>Checks every object node of the text the way <see cref="ManifestDocumentParser"/> finds them.</summary>
    private static (int Objects, int Direct) AssertSameObjectsOrDeclined(string name, string text)
    {
        YamlEventTree tree;
        try
        {
            tree = YamlEventTree.Parse(text);
        }
        catch (Exception)
        {
            // Not YAML (YamlDotNet words it, or throws what the reader turns into the document's error): nothing to decode.
            return (0, 0);
        }

        var (objects, direct) = (0, 0);
        foreach (var root in tree.Roots)
        {
            var nodes = tree.IsMapping(root) && tree.ScalarField(root, "apiVersion") == "v1" && tree.ScalarField(root, "kind") == "List"
                && tree.Field(root, "items")?.Value is { } items && tree.IsSequence(items)
                ? tree.Items(items).ToList()
                : [root];
            foreach (var node in nodes.Where(tree.IsMapping))
            {
                if (tree.ScalarField(node, "apiVersion") is not { Length: > 0 } apiVersion || tree.ScalarField(node, "kind") is not { Length: > 0 } kindName
                    || ManifestKindMap.Classify(apiVersion, kindName, out _) is not { } kind)
                {
                    continue;
                }

                objects++;
                string? viaJson;
                try
                {
                    viaJson = KubernetesJson.Serialize(ManifestTypedDecoder.DecodeViaJson(kind, tree, node));
                }
                catch (YamlLimitException)
                {
                    viaJson = null;
                }

                if (ManifestDirectDecoder.TryDecode(kind, tree, node) is { } decoded)
                {
                    direct++;
                    var viaDirect = KubernetesJson.Serialize(decoded);
                    Assert.True(viaJson == viaDirect, $"{name}:\n{text}\nJSON path: {viaJson ?? "an error"}\ndirect:    {viaDirect}");
                }
            }
        }

        return (objects, direct);
    }

    private static void AssertSameDocuments(string name, string text)
    {
        foreach (var document in YamlDocumentSplitter.Split(text))
        {
            var direct = Describe(() => ManifestDocumentParser.Parse("m.yaml", document));
            var viaJson = Describe(() => ManifestDocumentParser.Parse("m.yaml", document, directDecoding: false));
            Assert.True(viaJson == direct, $"{name}:\n{text}\nJSON path: {viaJson}\ndirect:    {direct}");
        }
    }

    private static string Describe(Func<IReadOnlyList<ManifestDocument>> parse)
    {
        try
        {
            return Describe(parse());
        }
        catch (Exception e)
        {
            return $"throws {e.GetType().Name}: {e.Message}";
        }
    }

    private static string Describe(IReadOnlyList<ManifestDocument> documents) => string.Join(" | ", documents.Select(d =>
        $"{d.Key} {d.Service} line {d.Line} item {d.ListItemIndex} errors [{string.Join("; ", d.Errors)}] ignored [{d.Ignored}] " +
        (d.Object is { } o ? KubernetesJson.Serialize(o.Object) + " " + o.Fingerprint : "no object")));

    [GeneratedRegex("^kind: (Service|EndpointSlice|Node)$", RegexOptions.Multiline)]
    private static partial Regex ObjectKind();
}
