namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// Objects shaped as an API server sends them in list responses (managedFields, last-applied annotations, status,
/// fields the model does not read, fields this client version does not know), and edge cases of the fields it does
/// read: dual-stack, topology hints, ports without names, null and missing values.
/// </summary>
internal static class ListPageJsonCorpus
{
    private const string ManagedFields = """
        "managedFields": [
          {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1", "time": "2026-11-20T10:00:00Z",
           "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
           "f:spec": {"f:ports": {".": {}, "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}}}, "f:selector": {}}}},
          {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-20T10:00:01Z",
           "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:loadBalancer": {"f:ingress": {}}}}, "subresource": "status"}
        ]
        """;

    public static readonly string[] Services =
    [
        // A plain ClusterIP Service as kubectl apply leaves it.
        """
        {"metadata": {"name": "web", "namespace": "default", "uid": "6f1c6d2e-1b7e-4a53-9a0e-0d1f1b2c3d4e", "resourceVersion": "4711",
          "generation": 1, "creationTimestamp": "2026-11-20T10:00:00Z", "labels": {"app": "web", "tier": "front"},
          "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\",\"kind\":\"Service\"}\n"},
          MANAGED_FIELDS},
         "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}], "selector": {"app": "web"},
          "clusterIP": "198.18.0.10", "clusterIPs": ["198.18.0.10"], "type": "ClusterIP", "sessionAffinity": "None",
          "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
         "status": {"loadBalancer": {}}}
        """.Replace("MANAGED_FIELDS", ManagedFields, StringComparison.Ordinal),
        // Dual-stack, named target port, a port without a name, ClientIP affinity, an unknown field in spec.
        """
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "dual", "namespace": "apps", "resourceVersion": "12", "labels": null},
         "spec": {"ports": [{"port": 53, "protocol": "UDP", "targetPort": "dns"}], "clusterIP": "198.18.0.11",
          "clusterIPs": ["198.18.0.11", "2001:db8::11"], "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack",
          "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
          "futureField": {"nested": [1, 2, {"x": null}]}, "trafficDistribution": "PreferClose"}}
        """,
        // LoadBalancer with NodePorts, external IPs, ingress of both modes, health check node port, Local policies.
        """
        {"metadata": {"name": "edge", "namespace": "default", "resourceVersion": "13",
          "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}},
         "spec": {"type": "LoadBalancer", "ports": [{"name": "https", "port": 443, "targetPort": 8443, "nodePort": 30443, "protocol": "TCP", "appProtocol": "https"},
                  {"name": "quic", "port": 443, "nodePort": 30444, "protocol": "UDP"}],
          "clusterIP": "198.18.0.12", "clusterIPs": ["198.18.0.12"], "externalIPs": ["203.0.113.7"],
          "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Local", "healthCheckNodePort": 31000, "allocateLoadBalancerNodePorts": true},
         "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.8", "ipMode": "VIP", "ports": [{"port": 443, "protocol": "TCP"}]},
                    {"ip": "203.0.113.9", "ipMode": "Proxy"}, {"hostname": "lb.example"}]},
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-20T10:00:00Z", "reason": "x", "message": "y"}]}}
        """,
        // Headless, ExternalName, and a Service whose optional fields are all null or missing.
        """
        {"metadata": {"name": "headless", "namespace": "default", "resourceVersion": "14"},
         "spec": {"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 5432, "targetPort": 5432}]}}
        """,
        """
        {"metadata": {"name": "alias", "namespace": "default", "resourceVersion": "15", "labels": {"service.kubernetes.io/service-proxy-name": "other"}},
         "spec": {"type": "ExternalName", "externalName": "db.example"}}
        """,
        """
        {"metadata": {"name": "nulls", "namespace": "default", "resourceVersion": "16", "annotations": null},
         "spec": {"type": null, "clusterIP": "198.18.0.16", "clusterIPs": null, "ports": [{"name": null, "protocol": null, "port": 80, "targetPort": null, "nodePort": null}],
          "sessionAffinityConfig": {"clientIP": null}, "externalIPs": null, "healthCheckNodePort": null},
         "status": null}
        """,
        // Invalid for the model (the validator names it), but well-typed JSON: delivered, as before.
        """
        {"metadata": {"name": "two-unnamed", "namespace": "default", "resourceVersion": "17"},
         "spec": {"clusterIP": "198.18.0.17", "ports": [{"port": 80}, {"port": 81}, null]}}
        """,
        """
        {"metadata": {"name": "nospec", "namespace": "default", "resourceVersion": "18"}}
        """,
    ];

    public static readonly string[] Slices =
    [
        // A slice as the EndpointSlice controller writes it: trigger-time annotation, targetRef, hints, conditions.
        """
        {"metadata": {"name": "web-abc12", "generateName": "web-", "namespace": "default", "uid": "u-1", "resourceVersion": "4712",
          "generation": 3, "creationTimestamp": "2026-11-20T10:00:00Z",
          "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": "web"},
          "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-11-20T10:00:02.123456789Z", "other": "x"},
          "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "6f1c", "controller": true, "blockOwnerDeletion": true}],
          MANAGED_FIELDS},
         "addressType": "IPv4",
         "endpoints": [
          {"addresses": ["198.19.0.1"], "conditions": {"ready": true, "serving": true, "terminating": false}, "nodeName": "node-a",
           "zone": "zone-1", "hints": {"forZones": [{"name": "zone-1"}], "forNodes": [{"name": "node-a"}]},
           "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "p-1"}},
          {"addresses": ["198.19.0.2"], "conditions": {"ready": false, "serving": true, "terminating": true}, "nodeName": "node-b",
           "zone": "zone-2", "hints": {"forZones": [{"name": "zone-2"}, {"name": "zone-1"}]}, "deprecatedTopology": {"a": "b"}},
          {"addresses": ["198.19.0.3"], "conditions": {}}
         ],
         "ports": [{"name": "http", "protocol": "TCP", "port": 8080, "appProtocol": "http"}]}
        """.Replace("MANAGED_FIELDS", ManagedFields, StringComparison.Ordinal),
        // IPv6, a port without a name or number, null conditions, missing hints.
        """
        {"metadata": {"name": "dual-v6", "namespace": "apps", "resourceVersion": "20", "labels": {"kubernetes.io/service-name": "dual"}},
         "addressType": "IPv6",
         "endpoints": [{"addresses": ["2001:db8::21", "2001:db8::22"], "conditions": null, "hints": null},
                       {"addresses": ["2001:db8::23"], "conditions": {"ready": null, "serving": null, "terminating": null}, "hints": {"forZones": []}}],
         "ports": [{"port": 53, "protocol": "UDP"}, {"name": "all"}]}
        """,
        // FQDN, no label, no endpoints, endpoints null, an endpoint without addresses.
        """
        {"metadata": {"name": "fqdn", "namespace": "default", "resourceVersion": "21", "labels": {"kubernetes.io/service-name": "alias"}},
         "addressType": "FQDN", "endpoints": [{"addresses": ["db.example"]}], "ports": null}
        """,
        """
        {"metadata": {"name": "orphan", "namespace": "default", "resourceVersion": "22"}, "addressType": "IPv4", "endpoints": null}
        """,
        """
        {"metadata": {"name": "empty-ep", "namespace": "default", "resourceVersion": "23", "labels": {"kubernetes.io/service-name": "web"}},
         "addressType": "IPv4", "endpoints": [{"addresses": []}, null, {"addresses": ["198.51.100.300"]}]}
        """,
    ];

    public static readonly string[] Nodes =
    [
        """
        {"metadata": {"name": "node-a", "uid": "n-1", "resourceVersion": "30",
          "labels": {"kubernetes.io/hostname": "node-a", "topology.kubernetes.io/zone": "zone-1", "node.kubernetes.io/instance-type": "m5.large"},
          "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
         "spec": {"podCIDR": "198.18.128.0/24", "podCIDRs": ["198.18.128.0/24"], "providerID": "aws:///x", "taints": [{"key": "k", "effect": "NoSchedule"}]},
         "status": {"capacity": {"cpu": "2", "memory": "8Gi"}, "allocatable": {"cpu": "1900m"},
          "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-11-20T10:00:00Z"}],
          "addresses": [{"type": "InternalIP", "address": "192.0.2.10"}, {"type": "ExternalIP", "address": "203.0.113.10"},
                        {"type": "Hostname", "address": "node-a"}, {"type": "InternalIP", "address": "2001:db8::10"}],
          "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}, "nodeInfo": {"kubeletVersion": "v1.34.0"},
          "images": [{"names": ["registry.example/app@sha256:0123", "registry.example/app:v1"], "sizeBytes": 123456789}]}}
        """,
        """
        {"metadata": {"name": "node-b", "resourceVersion": "31"}, "status": {"addresses": null}}
        """,
    ];

    public static string Page(string kind, IEnumerable<string> items, string resourceVersion = "5000", string? continueToken = null) =>
        $$"""
        {"kind": "{{kind}}", "apiVersion": "v1", "metadata": {"resourceVersion": "{{resourceVersion}}"{{(continueToken is null ? "" : $", \"continue\": \"{continueToken}\", \"remainingItemCount\": 7")}}},
         "items": [{{string.Join(",\n", items)}}]}
        """;
}
