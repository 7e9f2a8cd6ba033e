using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;
using YamlDotNet.Core;

namespace CgroupLb.Manifests;

/// <summary>
/// Reads a Service, EndpointSlice or Node straight from the compact nodes <see cref="BlockYamlParser"/> produced into
/// KubernetesClient's typed objects, without the JSON round trip of <see cref="ManifestTypedDecoder"/> (which cost about
/// as much as the YAML parse itself at 10k Services: a JSON text per object, then System.Text.Json's decoding).
/// <para>
/// It yields exactly the object the JSON path would, or declines (null) and that path decodes the document, which then
/// also words any error. So it declines on anything whose meaning it would have to reproduce rather than read: a field
/// it does not know (the JSON path refuses unknown fields), a key given twice, a merge key, a quoted or non-decimal
/// number, a null where the JSON path would keep one inside a list or map, a timestamp, and any value of the wrong
/// shape. What it takes follows the JSON path's rules: a plain <c>~</c>, <c>null</c> or empty value is null, any other
/// scalar read as a string is its text as written (a number or <c>true</c> too), an int is a plain decimal.
/// A test holds both to equal objects (by their serialized JSON) on every manifest of the test corpus.
/// </para>
/// </summary>
internal sealed class ManifestDirectDecoder
{
    private readonly YamlEventTree tree;
    private readonly List<YamlNode> nodes;

    private ManifestDirectDecoder(YamlEventTree tree, List<YamlNode> nodes)
    {
        this.tree = tree;
        this.nodes = nodes;
    }

    /// <returns>The typed object, or null when the JSON path must decode this node.</returns>
    public static IKubernetesObject<V1ObjectMeta>? TryDecode(ManifestKind kind, YamlEventTree tree, int node)
    {
        if (tree.Nodes is not { } nodes || nodes[node].Kind != YamlNodeKind.MappingStart)
        {
            return null;
        }

        var decoder = new ManifestDirectDecoder(tree, nodes);
        try
        {
            return kind switch
            {
                ManifestKind.Service => decoder.Service(node),
                ManifestKind.EndpointSlice => decoder.EndpointSlice(node),
                ManifestKind.Node => decoder.Node(node),
                _ => null,
            };
        }
        catch (DeclinedException)
        {
            return null;
        }
    }

    // The per-object decoders are optimized at once: see TextHash.Of.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private V1Service Service(int node)
    {
        var service = new V1Service();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "apiVersion": service.ApiVersion = Shared(value); break;
                case "kind": service.Kind = Shared(value); break;
                case "metadata": service.Metadata = Metadata(value); break;
                case "spec": service.Spec = ServiceSpec(value); break;
                case "status": service.Status = ServiceStatus(value); break;
                default: throw Declined;
            }
        }

        return service;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private V1ServiceSpec? ServiceSpec(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var spec = new V1ServiceSpec();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "allocateLoadBalancerNodePorts": spec.AllocateLoadBalancerNodePorts = Bool(value); break;
                case "clusterIP": spec.ClusterIP = Text(value); break;
                case "clusterIPs": spec.ClusterIPs = Strings(value); break;
                case "externalIPs": spec.ExternalIPs = Strings(value); break;
                case "externalName": spec.ExternalName = Text(value); break;
                case "externalTrafficPolicy": spec.ExternalTrafficPolicy = Shared(value); break;
                case "healthCheckNodePort": spec.HealthCheckNodePort = Int(value); break;
                case "internalTrafficPolicy": spec.InternalTrafficPolicy = Shared(value); break;
                case "ipFamilies": spec.IpFamilies = Strings(value, shared: true); break;
                case "ipFamilyPolicy": spec.IpFamilyPolicy = Shared(value); break;
                case "loadBalancerClass": spec.LoadBalancerClass = Shared(value); break;
                case "loadBalancerIP": spec.LoadBalancerIP = Text(value); break;
                case "loadBalancerSourceRanges": spec.LoadBalancerSourceRanges = Strings(value); break;
                case "ports": spec.Ports = Objects(value, ServicePort); break;
                case "publishNotReadyAddresses": spec.PublishNotReadyAddresses = Bool(value); break;
                case "selector": spec.Selector = StringMap(value); break;
                case "sessionAffinity": spec.SessionAffinity = Shared(value); break;
                case "sessionAffinityConfig": spec.SessionAffinityConfig = SessionAffinityConfig(value); break;
                case "trafficDistribution": spec.TrafficDistribution = Shared(value); break;
                case "type": spec.Type = Shared(value); break;
                default: throw Declined;
            }
        }

        return spec;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private V1ServicePort ServicePort(int node)
    {
        var port = new V1ServicePort();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "appProtocol": port.AppProtocol = Shared(value); break;
                case "name": port.Name = Shared(value); break;
                case "nodePort": port.NodePort = Int(value); break;
                // Not nullable: JSON's null cannot be read into it.
                case "port": port.Port = Int(value) ?? throw Declined; break;
                case "protocol": port.Protocol = Shared(value); break;
                case "targetPort": port.TargetPort = PortOrName(value); break;
                default: throw Declined;
            }
        }

        return port;
    }

    private V1SessionAffinityConfig? SessionAffinityConfig(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var config = new V1SessionAffinityConfig();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "clientIP":
                    if (IsMapping(value))
                    {
                        config.ClientIP = new V1ClientIPConfig();
                        for (var inner = value + 1; !IsMappingEnd(inner); inner = tree.Next(tree.Next(inner)))
                        {
                            config.ClientIP.TimeoutSeconds = FieldName(value, inner) is "timeoutSeconds" ? Int(tree.Next(inner)) : throw Declined;
                        }
                    }
                    else
                    {
                        config.ClientIP = null;
                    }

                    break;
                default: throw Declined;
            }
        }

        return config;
    }

    private V1ServiceStatus? ServiceStatus(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var status = new V1ServiceStatus();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "loadBalancer":
                    status.LoadBalancer = IsMapping(value) ? new V1LoadBalancerStatus() : null;
                    if (status.LoadBalancer is { } loadBalancer)
                    {
                        for (var inner = value + 1; !IsMappingEnd(inner); inner = tree.Next(tree.Next(inner)))
                        {
                            loadBalancer.Ingress = FieldName(value, inner) is "ingress" ? Objects(tree.Next(inner), LoadBalancerIngress) : throw Declined;
                        }
                    }

                    break;
                default: throw Declined;
            }
        }

        return status;
    }

    private V1LoadBalancerIngress LoadBalancerIngress(int node)
    {
        var ingress = new V1LoadBalancerIngress();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "hostname": ingress.Hostname = Text(value); break;
                case "ip": ingress.Ip = Text(value); break;
                case "ipMode": ingress.IpMode = Shared(value); break;
                case "ports": ingress.Ports = Objects(value, PortStatus); break;
                default: throw Declined;
            }
        }

        return ingress;
    }

    private V1PortStatus PortStatus(int node)
    {
        var port = new V1PortStatus();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "error": port.Error = Text(value); break;
                case "port": port.Port = Int(value) ?? throw Declined; break;
                case "protocol": port.Protocol = Shared(value); break;
                default: throw Declined;
            }
        }

        return port;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private V1EndpointSlice EndpointSlice(int node)
    {
        var slice = new V1EndpointSlice();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "addressType": slice.AddressType = Shared(value); break;
                case "apiVersion": slice.ApiVersion = Shared(value); break;
                case "kind": slice.Kind = Shared(value); break;
                case "metadata": slice.Metadata = Metadata(value); break;
                case "endpoints": slice.Endpoints = Objects(value, Endpoint); break;
                case "ports": slice.Ports = Objects(value, EndpointPort); break;
                default: throw Declined;
            }
        }

        return slice;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private V1Endpoint Endpoint(int node)
    {
        var endpoint = new V1Endpoint();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "addresses": endpoint.Addresses = Strings(value); break;
                case "conditions": endpoint.Conditions = EndpointConditions(value); break;
                case "deprecatedTopology": endpoint.DeprecatedTopology = StringMap(value); break;
                case "hints": endpoint.Hints = EndpointHints(value); break;
                case "hostname": endpoint.Hostname = Text(value); break;
                case "nodeName": endpoint.NodeName = Shared(value); break;
                case "targetRef": endpoint.TargetRef = ObjectReference(value); break;
                case "zone": endpoint.Zone = Shared(value); break;
                default: throw Declined;
            }
        }

        return endpoint;
    }

    private V1EndpointConditions? EndpointConditions(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var conditions = new V1EndpointConditions();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "ready": conditions.Ready = Bool(value); break;
                case "serving": conditions.Serving = Bool(value); break;
                case "terminating": conditions.Terminating = Bool(value); break;
                default: throw Declined;
            }
        }

        return conditions;
    }

    private V1EndpointHints? EndpointHints(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var hints = new V1EndpointHints();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "forNodes": hints.ForNodes = Objects(value, item => new V1ForNode { Name = OnlyName(item) }); break;
                case "forZones": hints.ForZones = Objects(value, item => new V1ForZone { Name = OnlyName(item) }); break;
                default: throw Declined;
            }
        }

        return hints;
    }

    /// <summary>The name of a <c>{name: ...}</c> item (forNodes, forZones).</summary>
    private string? OnlyName(int node)
    {
        string? name = null;
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            name = FieldName(node, key) is "name" ? Shared(tree.Next(key)) : throw Declined;
        }

        return name;
    }

    private V1ObjectReference? ObjectReference(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var reference = new V1ObjectReference();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "apiVersion": reference.ApiVersion = Shared(value); break;
                case "fieldPath": reference.FieldPath = Text(value); break;
                case "kind": reference.Kind = Shared(value); break;
                case "name": reference.Name = Text(value); break;
                case "namespace": reference.NamespaceProperty = Shared(value); break;
                case "resourceVersion": reference.ResourceVersion = Text(value); break;
                case "uid": reference.Uid = Text(value); break;
                default: throw Declined;
            }
        }

        return reference;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Discoveryv1EndpointPort EndpointPort(int node)
    {
        var port = new Discoveryv1EndpointPort();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "appProtocol": port.AppProtocol = Shared(value); break;
                case "name": port.Name = Shared(value); break;
                case "port": port.Port = Int(value); break;
                case "protocol": port.Protocol = Shared(value); break;
                default: throw Declined;
            }
        }

        return port;
    }

    private V1Node Node(int node)
    {
        var result = new V1Node();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "apiVersion": result.ApiVersion = Shared(value); break;
                case "kind": result.Kind = Shared(value); break;
                case "metadata": result.Metadata = Metadata(value); break;
                case "spec": result.Spec = NodeSpec(value); break;
                case "status": result.Status = NodeStatus(value); break;
                default: throw Declined;
            }
        }

        return result;
    }

    private V1NodeSpec? NodeSpec(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var spec = new V1NodeSpec();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "externalID": spec.ExternalID = Text(value); break;
                case "podCIDR": spec.PodCIDR = Text(value); break;
                case "podCIDRs": spec.PodCIDRs = Strings(value); break;
                case "providerID": spec.ProviderID = Text(value); break;
                case "unschedulable": spec.Unschedulable = Bool(value); break;
                default: throw Declined;
            }
        }

        return spec;
    }

    private V1NodeStatus? NodeStatus(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var status = new V1NodeStatus();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "addresses": status.Addresses = Objects(value, NodeAddress); break;
                case "phase": status.Phase = Shared(value); break;
                default: throw Declined;
            }
        }

        return status;
    }

    private V1NodeAddress NodeAddress(int node)
    {
        var address = new V1NodeAddress();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "address": address.Address = Text(value); break;
                case "type": address.Type = Shared(value); break;
                default: throw Declined;
            }
        }

        return address;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private V1ObjectMeta? Metadata(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var metadata = new V1ObjectMeta();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "annotations": metadata.Annotations = StringMap(value); break;
                // kubectl writes "creationTimestamp: null" in what it generates; a real time is left to the JSON path.
                case "creationTimestamp": metadata.CreationTimestamp = IsNull(value) ? null : throw Declined; break;
                case "deletionGracePeriodSeconds": metadata.DeletionGracePeriodSeconds = Long(value); break;
                case "finalizers": metadata.Finalizers = Strings(value); break;
                case "generateName": metadata.GenerateName = Text(value); break;
                case "generation": metadata.Generation = Long(value); break;
                case "labels": metadata.Labels = StringMap(value); break;
                case "name": metadata.Name = Text(value); break;
                case "namespace": metadata.NamespaceProperty = Shared(value); break;
                case "ownerReferences": metadata.OwnerReferences = Objects(value, OwnerReference); break;
                case "resourceVersion": metadata.ResourceVersion = Text(value); break;
                case "selfLink": metadata.SelfLink = Text(value); break;
                case "uid": metadata.Uid = Text(value); break;
                default: throw Declined;
            }
        }

        return metadata;
    }

    private V1OwnerReference OwnerReference(int node)
    {
        var owner = new V1OwnerReference();
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            var value = tree.Next(key);
            switch (FieldName(node, key))
            {
                case "apiVersion": owner.ApiVersion = Shared(value); break;
                case "blockOwnerDeletion": owner.BlockOwnerDeletion = Bool(value); break;
                case "controller": owner.Controller = Bool(value); break;
                case "kind": owner.Kind = Shared(value); break;
                case "name": owner.Name = Text(value); break;
                case "uid": owner.Uid = Text(value); break;
                default: throw Declined;
            }
        }

        return owner;
    }

    /// <summary>
    /// A mapping's key as a field name. A key given twice is refused by the JSON path, and a plain <c>&lt;&lt;</c> is a
    /// merge it applies: both are left to it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<char> FieldName(int mapping, int key)
    {
        if (nodes[key].Kind != YamlNodeKind.Scalar)
        {
            throw Declined;
        }

        var name = tree.NodeValueSpan(key);
        if (nodes[key].Style == ScalarStyle.Plain && name.SequenceEqual("<<"))
        {
            throw Declined;
        }

        // Mappings have a handful of keys; a scan back is cheaper than a set.
        for (var earlier = mapping + 1; earlier != key; earlier = tree.Next(tree.Next(earlier)))
        {
            if (tree.NodeValueSpan(earlier).SequenceEqual(name))
            {
                throw Declined;
            }
        }

        return name;
    }

    private bool IsMappingEnd(int index) => nodes[index].Kind == YamlNodeKind.MappingEnd;

    /// <summary>True for a mapping, false for a null (the field stays null); any other value is left to the JSON path.</summary>
    private bool IsMapping(int node) => nodes[node].Kind == YamlNodeKind.MappingStart || (IsNull(node) ? false : throw Declined);

    private bool IsSequence(int node) => nodes[node].Kind == YamlNodeKind.SequenceStart || (IsNull(node) ? false : throw Declined);

    /// <summary>The plain scalars the JSON path writes as JSON null.</summary>
    private bool IsNull(int node) =>
        nodes[node] is { Kind: YamlNodeKind.Scalar, Style: ScalarStyle.Plain } && tree.NodeValueSpan(node) is "" or "~" or "null" or "Null" or "NULL";

    private int Scalar(int node) => nodes[node].Kind == YamlNodeKind.Scalar ? node : throw Declined;

    /// <summary>A string field: its text as written, whatever YAML type it has (the JSON path reads numbers and booleans as their text).</summary>
    private string? Text(int node) => IsNull(node) ? null : tree.NodeValue(Scalar(node));

    private string NonNullText(int node) => IsNull(node) ? throw Declined : tree.NodeValue(Scalar(node));

    /// <summary>A string field whose values repeat across objects: one string per thread for each (<see cref="RepeatedText"/>).</summary>
    private string? Shared(int node) => IsNull(node) ? null : RepeatedText.Of(tree.NodeValueSpan(Scalar(node)));

    private string NonNullShared(int node) => IsNull(node) ? throw Declined : RepeatedText.Of(tree.NodeValueSpan(Scalar(node)));

    private int? Int(int node) => Long(node) is not { } value ? null : value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Declined;

    /// <summary>A plain decimal integer (no sign but '-', no leading zero); anything else the JSON path reads its own way.</summary>
    private long? Long(int node)
    {
        if (IsNull(node))
        {
            return null;
        }

        var text = tree.NodeValueSpan(Scalar(node));
        var digits = text.StartsWith('-') ? text[1..] : text;
        if (nodes[node].Style != ScalarStyle.Plain || digits.IsEmpty || digits.Length > 18 || (digits[0] == '0' && text.Length > 1)
            || digits.ContainsAnyExceptInRange('0', '9'))
        {
            throw Declined;
        }

        return long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private bool? Bool(int node)
    {
        if (IsNull(node))
        {
            return null;
        }

        if (nodes[Scalar(node)].Style == ScalarStyle.Plain)
        {
            switch (tree.NodeValueSpan(node))
            {
                case "true": return true;
                case "false": return false;
            }
        }

        throw Declined;
    }

    /// <summary>A plain decimal int is a number, a quoted or non-numeric scalar a name, as KubernetesClient's converter reads them.</summary>
    private IntOrString? PortOrName(int node)
    {
        if (IsNull(node))
        {
            return null;
        }

        var text = tree.NodeValueSpan(Scalar(node));
        if (nodes[node].Style == ScalarStyle.Plain && (text is "true" or "false" || (text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] == '-'))))
        {
            // The JSON path writes these as JSON numbers or booleans; only a plain decimal int reads back as its text.
            _ = Int(node);
        }

        return RepeatedText.Of(tree.NodeValueSpan(node));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IList<string>? Strings(int node, bool shared = false)
    {
        if (!IsSequence(node))
        {
            return null;
        }

        var list = new List<string>(ItemCount(node));
        for (var item = node + 1; nodes[item].Kind != YamlNodeKind.SequenceEnd; item = tree.Next(item))
        {
            list.Add(shared ? NonNullShared(item) : NonNullText(item));
        }

        return list;
    }

    /// <summary>A sequence's items, so its list is made at its size (most hold one address or port: growing by doubling made four slots each).</summary>
    private int ItemCount(int sequence)
    {
        var count = 0;
        for (var item = sequence + 1; nodes[item].Kind != YamlNodeKind.SequenceEnd; item = tree.Next(item))
        {
            count++;
        }

        return count;
    }

    private IDictionary<string, string>? StringMap(int node)
    {
        if (!IsMapping(node))
        {
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var key = node + 1; !IsMappingEnd(key); key = tree.Next(tree.Next(key)))
        {
            if (nodes[key].Kind != YamlNodeKind.Scalar || (nodes[key].Style == ScalarStyle.Plain && tree.NodeValueSpan(key) is "<<")
                || !map.TryAdd(RepeatedText.Of(tree.NodeValueSpan(key)), NonNullText(tree.Next(key))))
            {
                throw Declined;
            }
        }

        return map;
    }

    /// <summary>A list of objects; a null item (which the JSON path would keep) or a non-mapping item is left to it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private List<T>? Objects<T>(int node, Func<int, T> item)
    {
        if (!IsSequence(node))
        {
            return null;
        }

        var list = new List<T>(ItemCount(node));
        for (var i = node + 1; nodes[i].Kind != YamlNodeKind.SequenceEnd; i = tree.Next(i))
        {
            list.Add(nodes[i].Kind == YamlNodeKind.MappingStart ? item(i) : throw Declined);
        }

        return list;
    }

    private static DeclinedException Declined => new();

    /// <summary>Thrown to leave the node to the JSON path; never escapes <see cref="TryDecode"/>.</summary>
    private sealed class DeclinedException : Exception;
}
