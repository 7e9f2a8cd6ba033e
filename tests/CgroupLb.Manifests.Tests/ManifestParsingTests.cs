using k8s.Models;

namespace CgroupLb.Manifests.Tests;

public class ManifestParsingTests
{
    [Fact]
    public void MultiDocumentFileYieldsEveryObjectWithItsIdentityAndPlace()
    {
        var content = Yaml.Documents(
            Yaml.Service("web", "198.51.100.10", @namespace: "shop"),
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec: {}

            """,
            Yaml.Slice("web-abc", "web", "198.18.1.2"),
            Yaml.Node("demo-node"));

        var file = ManifestReader.ParseFile("m.yaml", content);

        var objects = file.Documents.Where(d => d.Object is not null).Select(d => d.Object!).ToList();
        Assert.Equal(
            ["Service shop/web@0", "EndpointSlice default/web-abc@2", "Node demo-node@3"],
            objects.Select(o => $"{o.Key}@{o.DocumentIndex}"));
        Assert.All(file.Documents, d => Assert.Empty(d.Errors));
        var ignored = Assert.Single(file.Documents, d => d.Ignored is not null).Ignored!;
        Assert.Equal("m.yaml doc 1: kind apps/v1 Deployment web is not a Service/EndpointSlice/Node", ignored.ToString());
    }

    [Fact]
    public void MissingNamespaceDefaultsToDefaultOnTheObjectItselfAndNodesHaveNone()
    {
        var content = Yaml.Documents(
            Yaml.Service("web", "198.51.100.10"),
            """
            apiVersion: v1
            kind: Node
            metadata:
              name: n1
              namespace: stray

            """);

        var objects = ManifestReader.ParseFile("m.yaml", content).Documents.Select(d => d.Object!).ToList();

        Assert.Equal(new ManifestObjectKey(ManifestKind.Service, "default", "web"), objects[0].Key);
        Assert.Equal("default", objects[0].Object.Metadata.NamespaceProperty);
        Assert.Equal(new ManifestObjectKey(ManifestKind.Node, "", "n1"), objects[1].Key);
        Assert.Null(objects[1].Object.Metadata.NamespaceProperty);
    }

    [Fact]
    public void ShippedDemoManifestIsValidAndHoldsTheDemoAddresses()
    {
        var path = Path.Join(AppContext.BaseDirectory, "examples", "demo", "web.yaml");

        var file = new ManifestReader().ReadFile(path)!;

        Assert.Null(file.ReadError);
        Assert.All(file.Documents, d => Assert.Empty(d.Errors));
        var service = Assert.IsType<V1Service>(file.Documents[0].Object!.Object);
        Assert.Equal("198.51.100.10", service.Spec.ClusterIP);
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal(("http", 80, "http"), (port.Name, port.Port, port.TargetPort.Value));
        var slice = Assert.IsType<V1EndpointSlice>(file.Documents[1].Object!.Object);
        Assert.Equal("web", slice.Metadata.Labels["kubernetes.io/service-name"]);
        Assert.Equal(("http", 8080), (slice.Ports.Single().Name, slice.Ports.Single().Port!.Value));
        Assert.Equal(["198.18.1.2", "198.18.2.2", "198.18.3.2"], slice.Endpoints.Select(e => e.Addresses.Single()));
        Assert.All(slice.Endpoints, e => Assert.Equal((true, "demo-node"), (e.Conditions.Ready!.Value, e.NodeName)));
    }

    public static TheoryData<string, string> BadDocuments => new()
    {
        {
            Yaml.Slice("web-abc", "web", "198.18.1.2", "10.0.0.999"),
            "bad.yaml doc 1 (EndpointSlice default/web-abc): endpoints[1].addresses[0] \"10.0.0.999\" is not an IP address"
        },
        {
            Yaml.Service("web", "198.51.100.10", port: 70000),
            "bad.yaml doc 1 (Service default/web): spec.ports[0].port 70000 out of range 1..65535"
        },
        {
            "apiVersion: v1\nkind: Service\nmetadata:\n  labels: {a: b}\n",
            "bad.yaml doc 1: v1 Service has no metadata.name"
        },
        {
            "kind: Service\nmetadata:\n  name: web\n",
            "bad.yaml doc 1: apiVersion is missing"
        },
        {
            "apiVersion: v1\nmetadata:\n  name: web\n",
            "bad.yaml doc 1: kind is missing"
        },
        {
            "metadata:\n  name: web\n",
            "bad.yaml doc 1: apiVersion and kind are missing"
        },
        {
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n   namespace: x\n",
            "bad.yaml doc 1: invalid YAML at line 17 column 13: While scanning a plain scalar value, found invalid mapping"
        },
        {
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  clusterIp: 198.51.100.10\n",
            "bad.yaml doc 1 (Service default/web): line 18 column 3: unknown field \"clusterIp\" in V1ServiceSpec"
        },
        {
            "apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata:\n  name: web-abc\n",
            "bad.yaml doc 1 (EndpointSlice default/web-abc): apiVersion \"discovery.k8s.io/v1beta1\" is not supported for kind EndpointSlice; use \"discovery.k8s.io/v1\""
        },
        {
            "- a\n- b\n",
            "bad.yaml doc 1: is not an object with fields (found a list)"
        },
    };

    /// <summary>Each bad document is reported naming file, document, object and reason; its neighbours still load.</summary>
    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void BadDocumentIsReportedPreciselyAndTheOthersStillLoad(string badDocument, string expectedError)
    {
        var content = Yaml.Documents(Yaml.Service("first", "198.51.100.1"), badDocument, Yaml.Service("last", "198.51.100.3"));

        var file = ManifestReader.ParseFile("bad.yaml", content);

        var error = Assert.Single(file.Documents.SelectMany(d => d.Errors));
        Assert.Equal(expectedError, error.ToString());
        Assert.Equal(
            ["Service default/first", "Service default/last"],
            file.Documents.Where(d => d.Object is not null).Select(d => d.Object!.Key.ToString()));
    }

    [Fact]
    public void ListDocumentYieldsItsItemsAndLocatesABadItem()
    {
        var content = """
            apiVersion: v1
            kind: List
            items:
              - apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  clusterIP: 198.51.100.10
              - apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: web-abc
                  labels: {kubernetes.io/service-name: web}
                addressType: IPv4
                endpoints:
                  - addresses: ["198.18.1.999"]

            """;

        var file = ManifestReader.ParseFile("list.yaml", content);

        Assert.Equal(2, file.Documents.Count);
        Assert.Equal((0, 0), (file.Documents[0].DocumentIndex, file.Documents[0].ListItemIndex!.Value));
        Assert.Equal("Service default/web", file.Documents[0].Object!.Key.ToString());
        var error = Assert.Single(file.Documents[1].Errors);
        Assert.Equal(
            "list.yaml doc 0 items[1] (EndpointSlice default/web-abc): endpoints[0].addresses[0] \"198.18.1.999\" is not an IP address",
            error.ToString());
        Assert.Equal(10, error.Line);
    }

    [Fact]
    public void JsonFileIsOneDocument()
    {
        var content = """
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"clusterIP": "198.51.100.10", "ports": [{"port": 80}]}}
            """;

        var found = Assert.Single(ManifestReader.ParseFile("web.json", content).Documents).Object!;

        Assert.Equal("Service shop/web", found.Key.ToString());
        Assert.Equal(80, ((V1Service)found.Object).Spec.Ports.Single().Port);
    }

    [Fact]
    public void Exported_field_managers_and_kubectls_copy_of_the_object_are_not_kept()
    {
        var content = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              annotations:
                kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"v1","kind":"Service"}'
                endpoints.kubernetes.io/last-change-trigger-time: "2026-11-28T00:00:00Z"
              managedFields:
              - manager: kubectl
                operation: Apply
                apiVersion: v1
                fieldsType: FieldsV1
            spec:
              clusterIP: 198.51.100.10
              ports:
              - port: 80
            """;

        var service = (V1Service)Assert.Single(ManifestReader.ParseFile("m.yaml", content).Documents).Object!.Object;

        Assert.Null(service.Metadata.ManagedFields);
        Assert.Equal(["endpoints.kubernetes.io/last-change-trigger-time"], service.Metadata.Annotations.Keys);
    }
}
