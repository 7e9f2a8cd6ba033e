using System.Text;

namespace CgroupLb.Benchmarks.Workload;

/// <summary>A <see cref="SyntheticCluster"/> as one multi-document manifest file, the way a person would write it.</summary>
internal static class ManifestText
{
    public static string Of(SyntheticCluster cluster, IReadOnlySet<int>? changed = null)
    {
        var text = new StringBuilder();
        foreach (var service in cluster.Services)
        {
            text.Append($"""
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: {service.Metadata.Name}
                  namespace: {service.Metadata.NamespaceProperty}
                spec:
                  clusterIP: {service.Spec.ClusterIP}
                  ports:
                  - name: {SyntheticCluster.PortName}
                    port: {service.Spec.Ports[0].Port}
                    protocol: TCP
                    targetPort: {SyntheticCluster.TargetPort}

                """);
        }

        for (var i = 0; i < cluster.ServiceCount; i++)
        {
            var slice = changed?.Contains(i) == true ? cluster.ChangedSlices[i] : cluster.Slices[i];
            text.Append($"""
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: {slice.Metadata.Name}
                  namespace: {slice.Metadata.NamespaceProperty}
                  labels:
                    kubernetes.io/service-name: {cluster.Services[i].Metadata.Name}
                addressType: IPv4
                ports:
                - name: {SyntheticCluster.PortName}
                  port: {slice.Ports[0].Port}
                  protocol: TCP
                endpoints:

                """);
            foreach (var endpoint in slice.Endpoints)
            {
                text.Append($"- addresses: [\"{endpoint.Addresses[0]}\"]\n  conditions: {{ready: true, serving: true, terminating: false}}\n  nodeName: node-a\n");
            }
        }

        return text.ToString();
    }
}
