using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Model.Services;

/// <summary>
/// Turns API objects into the model's value records, deciding once what is proxied and what is not. Invalid or
/// unsupported input is logged (naming the object and the reason) and left out rather than thrown: one bad object
/// from a watch must not stop every other service from being programmed.
/// </summary>
public sealed class ClusterObjectParser(ILogger? logger = null)
{
    private readonly ILogger logger = logger ?? NullLogger.Instance;

    // A service is re-parsed on every update; the SCTP refusal is worth one warning per port, not one per event.
    private readonly ConcurrentDictionary<ServicePortName, bool> refusedPortsWarned = new();

    /// <summary>Why a valid service is not proxied at all, or null when it is (kube-proxy's ShouldSkipService).</summary>
    public static string? SkipReason(V1Service service)
    {
        V1ServiceSpec? spec = service.Spec;
        IDictionary<string, string>? labels = service.Metadata?.Labels;
        if (spec?.Type == "ExternalName") return "type ExternalName is resolved by DNS, not proxied";
        if (labels?.ContainsKey(WellKnownLabels.ServiceProxyName) == true)
            return $"label {WellKnownLabels.ServiceProxyName} hands it to another proxy";
        if (labels?.ContainsKey(WellKnownLabels.Headless) == true) return $"label {WellKnownLabels.Headless} marks it headless";
        if (!HasClusterIp(spec)) return "headless (no clusterIP)";
        return null;
    }

    /// <summary>The proxied view of a service, or null when it is skipped or invalid (both logged).</summary>
    // Optimized at once, like the validator's checks: a source's first delivery parses every object while the start
    // keeps the tiered JIT busy, which would leave these at tier 0 for all of it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ServiceSnapshot? ParseService(V1Service service)
    {
        ArgumentNullException.ThrowIfNull(service);
        IReadOnlyList<string> errors = ObjectValidator.Validate(service);
        if (errors.Count > 0)
        {
            logger.LogWarning("Skipping invalid service {Service}: {Errors}", ServiceName.Of(service.Metadata), string.Join("; ", errors));
            return null;
        }
        if (SkipReason(service) is { } reason)
        {
            logger.LogDebug("Not proxying service {Service}: {Reason}", ServiceName.Of(service.Metadata), reason);
            return null;
        }

        V1ServiceSpec spec = service.Spec;
        var name = ServiceName.Of(service.Metadata);
        var clusterIps = ParseClusterIps(spec);
        var externalIps = ParseAll(spec.ExternalIPs);
        IList<V1LoadBalancerIngress> ingress = service.Status?.LoadBalancer?.Ingress ?? [];
        ImmutableArray<IPAddress> ingressIps = ingress.Count == 0 ? []
            : ParseAll(ingress.Where(i => !IsProxyMode(i)).Select(i => i?.Ip).OfType<string>().Where(ip => ip.Length > 0));
        ImmutableArray<IPAddress> proxyModeIngressIps = ingress.Count == 0 ? []
            : ParseAll(ingress.Where(IsProxyMode).Select(i => i.Ip).OfType<string>().Where(ip => ip.Length > 0));
        bool clientIpAffinity = spec.SessionAffinity == "ClientIP";
        uint affinityTimeout = clientIpAffinity
            ? (uint)(spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds ?? (int)ServicePortInfo.DefaultAffinityTimeoutSeconds)
            : 0;

        // Builders at their final size: DrainToImmutable then hands over the array instead of copying it.
        var ports = ImmutableArray.CreateBuilder<ServicePortInfo>(spec.Ports?.Count ?? 0);
        foreach (V1ServicePort port in spec.Ports ?? [])
        {
            string protocolText = port.Protocol ?? "TCP";
            if (!TryParseProtocol(protocolText, out L4Protocol protocol))
            {
                // The key needs some L4Protocol; refusals are keyed by name, which is unique within a service.
                var refused = new ServicePortName(name, port.Name ?? "", L4Protocol.Tcp);
                if (refusedPortsWarned.TryAdd(refused, true))
                    logger.LogWarning("Refusing service port {ServicePort}: protocol {Protocol} is not supported by the socket load balancer", refused, protocolText);
                continue;
            }
            ports.Add(new ServicePortInfo(
                new ServicePortName(name, port.Name ?? "", protocol),
                clusterIps,
                (ushort)port.Port,
                protocol,
                port.TargetPort?.Value,
                (ushort)(port.NodePort ?? 0),
                clientIpAffinity,
                affinityTimeout,
                spec.InternalTrafficPolicy == "Local" ? TrafficPolicy.Local : TrafficPolicy.Cluster,
                spec.ExternalTrafficPolicy == "Local" ? TrafficPolicy.Local : TrafficPolicy.Cluster,
                externalIps,
                ingressIps,
                (ushort)(spec.HealthCheckNodePort ?? 0),
                spec.TrafficDistribution)
            {
                ProxyModeIngressIPs = proxyModeIngressIps,
            });
        }
        ports.Sort((a, b) => a.Name.CompareTo(b.Name));
        return new ServiceSnapshot(name, ports.DrainToImmutable());
    }

    /// <summary>
    /// The proxied view of a slice, or null when it belongs to no service, carries FQDN addresses, or is invalid
    /// (logged).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public EndpointSliceInfo? ParseEndpointSlice(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (OwningService(slice) is not { } service)
        {
            logger.LogDebug("Ignoring endpoint slice {Slice}: no {Label} label", ServiceName.Of(slice.Metadata), WellKnownLabels.ServiceName);
            return null;
        }
        IReadOnlyList<string> errors = ObjectValidator.Validate(slice);
        if (errors.Count > 0)
        {
            logger.LogWarning("Skipping invalid endpoint slice {Slice}: {Errors}", ServiceName.Of(slice.Metadata), string.Join("; ", errors));
            return null;
        }
        AddressFamily family = slice.AddressType switch
        {
            "IPv4" => AddressFamily.InterNetwork,
            "IPv6" => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unspecified,
        };
        if (family == AddressFamily.Unspecified)
        {
            logger.LogDebug("Ignoring endpoint slice {Slice}: address type {AddressType} is not proxied", ServiceName.Of(slice.Metadata), slice.AddressType);
            return null;
        }

        var ports = ImmutableArray.CreateBuilder<EndpointSlicePort>(slice.Ports?.Count ?? 0);
        foreach (Discoveryv1EndpointPort port in slice.Ports ?? [])
        {
            // A port without a number means "all ports" to some consumers; kube-proxy cannot use it and neither can we.
            if (port.Port is not { } number) continue;
            if (!TryParseProtocol(port.Protocol ?? "TCP", out L4Protocol protocol)) continue;
            ports.Add(new EndpointSlicePort(port.Name ?? "", (ushort)number, protocol));
        }
        ports.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var c && c != 0 ? c : a.Protocol.CompareTo(b.Protocol));

        var endpoints = ImmutableArray.CreateBuilder<SliceEndpoint>(slice.Endpoints?.Count ?? 0);
        foreach (V1Endpoint endpoint in slice.Endpoints ?? [])
        {
            IpText.TryParse(endpoint.Addresses[0], out IPAddress address);
            V1EndpointConditions? conditions = endpoint.Conditions;
            var zoneHints = SortedHintNames(endpoint.Hints?.ForZones, z => z?.Name);
            var nodeHints = SortedHintNames(endpoint.Hints?.ForNodes, n => n?.Name);
            endpoints.Add(new SliceEndpoint(
                address,
                Ready: conditions?.Ready ?? true,
                Serving: conditions?.Serving ?? true,
                Terminating: conditions?.Terminating ?? false,
                endpoint.NodeName,
                endpoint.Zone,
                zoneHints,
                nodeHints));
        }
        endpoints.Sort((a, b) => AddressOrder.Compare(a.Address, b.Address));
        return new EndpointSliceInfo(slice.Metadata!.Name, service, family, ports.DrainToImmutable(), endpoints.DrainToImmutable());
    }

    /// <summary>The service named by the slice's kubernetes.io/service-name label, in the slice's namespace.</summary>
    public static ServiceName? OwningService(V1EndpointSlice slice)
    {
        if (slice.Metadata?.Labels?.TryGetValue(WellKnownLabels.ServiceName, out string? owner) != true || string.IsNullOrEmpty(owner))
            return null;
        return ServiceName.Of(slice.Metadata) with { Name = owner };
    }

    public static NodeInfo ParseNode(V1Node node)
    {
        string? zone = null;
        node.Metadata?.Labels?.TryGetValue(WellKnownLabels.TopologyZone, out zone);
        return new NodeInfo(node.Metadata?.Name ?? "", zone);
    }

    /// <summary>
    /// The addresses a NodePort is reached on from inside the cluster: the node's InternalIP and ExternalIP entries
    /// of status.addresses, sorted and distinct. Hostnames and addresses that do not parse are left out.
    /// </summary>
    public static ImmutableArray<IPAddress> ParseNodeAddresses(V1Node node)
    {
        IList<V1NodeAddress>? addresses = node.Status?.Addresses;
        if (addresses is null || addresses.Count == 0) return [];
        var parsed = new List<IPAddress>(addresses.Count);
        foreach (V1NodeAddress address in addresses)
        {
            if (address?.Type is not (WellKnownLabels.NodeInternalIP or WellKnownLabels.NodeExternalIP)) continue;
            if (IpText.TryParse(address.Address, out IPAddress ip) && !parsed.Contains(ip)) parsed.Add(ip);
        }
        parsed.Sort(AddressOrder.Compare);
        return [.. parsed];
    }

    // Most endpoints carry no hints: the common case allocates nothing (a LINQ chain per endpoint was most of what
    // parsing a 10k x 10 list allocated).
    private static ImmutableArray<string> SortedHintNames<THint>(IList<THint>? hints, Func<THint?, string?> name)
    {
        if (hints is null || hints.Count == 0) return [];
        return hints.Select(h => name(h)).OfType<string>().Order(StringComparer.Ordinal).ToImmutableArray();
    }

    // kube-proxy programs an ingress IP unless ipMode says Proxy (unset means VIP, the pre-1.29 behaviour).
    private static bool IsProxyMode(V1LoadBalancerIngress? ingress) => ingress?.IpMode == WellKnownLabels.IpModeProxy;

    // spec.clusterIPs when set, else spec.clusterIP; "None" and empty entries are no address. Loops rather than LINQ:
    // every Service of every read passes here, and the chains were most of what parsing one allocated.
    private static bool HasClusterIp(V1ServiceSpec? spec)
    {
        if (spec is null) return false;
        if (spec.ClusterIPs is not { Count: > 0 } ips) return IsClusterIpText(spec.ClusterIP);
        foreach (string text in ips)
        {
            if (IsClusterIpText(text)) return true;
        }
        return false;
    }

    private static ImmutableArray<IPAddress> ParseClusterIps(V1ServiceSpec spec)
    {
        if (spec.ClusterIPs is not { Count: > 0 } ips)
            return IsClusterIpText(spec.ClusterIP) && IpText.TryParse(spec.ClusterIP, out IPAddress single) ? [single] : [];
        var parsed = ImmutableArray.CreateBuilder<IPAddress>(ips.Count);
        foreach (string text in ips)
        {
            if (IsClusterIpText(text) && IpText.TryParse(text, out IPAddress address)) parsed.Add(address);
        }
        return parsed.DrainToImmutable();
    }

    private static bool IsClusterIpText(string? text) => !string.IsNullOrEmpty(text) && text != "None";

    private static ImmutableArray<IPAddress> ParseAll(IEnumerable<string>? texts)
    {
        if (texts is null || (texts is ICollection<string> { Count: 0 })) return [];
        var parsed = ImmutableArray.CreateBuilder<IPAddress>();
        foreach (string text in texts)
        {
            if (IpText.TryParse(text, out IPAddress address)) parsed.Add(address);
        }
        return parsed.DrainToImmutable();
    }

    private static bool TryParseProtocol(string text, out L4Protocol protocol)
    {
        switch (text)
        {
            case "TCP": protocol = L4Protocol.Tcp; return true;
            case "UDP": protocol = L4Protocol.Udp; return true;
            default: protocol = default; return false;
        }
    }
}
