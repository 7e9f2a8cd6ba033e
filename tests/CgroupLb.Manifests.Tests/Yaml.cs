namespace CgroupLb.Manifests.Tests;

/// <summary>Manifest text builders; every test states the values it asserts on.</summary>
internal static class Yaml
{
    public static string Service(string name, string clusterIp, int port = 80, string? @namespace = null) => $"""
        apiVersion: v1
        kind: Service
        metadata:
          name: {name}
        {(@namespace is null ? "" : $"  namespace: {@namespace}")}
        spec:
          clusterIP: {clusterIp}
          ports:
            - name: http
              port: {port}
              targetPort: 8080

        """;

    public static string Slice(string name, string service, params string[] addresses) => $"""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: {name}
          labels:
            kubernetes.io/service-name: {service}
        addressType: IPv4
        ports:
          - name: http
            port: 8080
        endpoints:
        {string.Concat(addresses.Select(a => $"  - addresses: [\"{a}\"]\n    conditions: {{ready: true}}\n"))}
        """;

    public static string Node(string name) => $"""
        apiVersion: v1
        kind: Node
        metadata:
          name: {name}

        """;

    public static string Documents(params string[] documents) => string.Join("---\n", documents);
}
