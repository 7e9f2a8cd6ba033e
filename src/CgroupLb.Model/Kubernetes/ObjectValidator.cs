using System.Net.Sockets;
using System.Runtime.CompilerServices;
using k8s.Models;

namespace CgroupLb.Model.Kubernetes;

/// <summary>
/// Checks the fields CgroupLb reads from Services and EndpointSlices, the way the API server would have, so objects
/// from hand-written manifests fail with a message naming the object, field and value instead of producing a
/// half-programmed service. An empty list means valid. The tracker skips (and logs) invalid objects; the manifest
/// reader reports the same strings to the user.
/// </summary>
public static class ObjectValidator
{
    public const int MaxAffinityTimeoutSeconds = 86400;

    private static readonly string[] ServiceTypes = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
    private static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];
    private static readonly string[] TrafficPolicies = ["Cluster", "Local"];
    private static readonly string[] AffinityModes = ["None", "ClientIP"];
    private static readonly string[] SliceAddressTypes = ["IPv4", "IPv6", "FQDN"];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IReadOnlyList<string> Validate(V1Service service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var errors = new Problems("Service", service.Metadata);
        void Error(string message) => errors.Add(message);

        if (string.IsNullOrEmpty(service.Metadata?.Name)) Error("metadata.name is required");
        else if (!IsDns1035Label(service.Metadata.Name))
            Error($"metadata.name \"{service.Metadata.Name}\" must be a DNS-1035 label (at most 63 lowercase letters, digits and '-', starting with a letter)");
        ValidateNamespace(service.Metadata, ref errors);
        V1ServiceSpec? spec = service.Spec;
        if (spec is null)
        {
            Error("spec is required");
            return errors.List;
        }

        if (spec.Type is { } type && !ServiceTypes.Contains(type))
            Error($"spec.type \"{type}\" is not one of {string.Join(", ", ServiceTypes)}");
        bool externalName = spec.Type == "ExternalName";
        if (externalName && string.IsNullOrEmpty(spec.ExternalName))
            Error("spec.externalName is required when spec.type is ExternalName");

        ValidateClusterIps(spec, ref errors);

        IList<V1ServicePort> ports = spec.Ports ?? [];
        for (int i = 0; i < ports.Count; i++)
        {
            // Spelled out only in an error: most ports are valid.
            string Field() => $"spec.ports[{i}]";
            V1ServicePort? port = ports[i];
            if (port is null)
            {
                Error($"{Field()} is null");
                continue;
            }
            if (port.Port is < 1 or > 65535) Error($"{Field()}.port {port.Port} out of range 1..65535");
            if (port.Protocol is { } protocol && !Protocols.Contains(protocol))
                Error($"{Field()}.protocol \"{protocol}\" is not one of {string.Join(", ", Protocols)}");
            string name = port.Name ?? "";
            if (ports.Count > 1 && name.Length == 0) Error($"{Field()}.name is required when a service has more than one port");
            if (name.Length > 0 && !IsDns1123Label(name))
                Error($"{Field()}.name \"{name}\" must be a DNS-1123 label (at most 63 lowercase letters, digits and '-')");
            if (UsedBefore(ports, i, p => p?.Name ?? "", name)) Error($"{Field()}.name \"{name}\" is used by more than one port");
            if (port.NodePort is { } nodePort && nodePort != 0 && nodePort is < 1 or > 65535)
                Error($"{Field()}.nodePort {nodePort} out of range 1..65535");
            if (port.TargetPort?.Value is { } target)
            {
                if (int.TryParse(target, out int number))
                {
                    if (number is < 1 or > 65535) Error($"{Field()}.targetPort {number} out of range 1..65535");
                }
                else if (target.Length is 0 or > 15)
                {
                    Error($"{Field()}.targetPort \"{target}\" is neither a port number nor a port name of 1..15 characters");
                }
            }
        }

        if (spec.SessionAffinity is { } affinity && !AffinityModes.Contains(affinity))
            Error($"spec.sessionAffinity \"{affinity}\" is not one of {string.Join(", ", AffinityModes)}");
        if (spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds is { } timeout && timeout is < 1 or > MaxAffinityTimeoutSeconds)
            Error($"spec.sessionAffinityConfig.clientIP.timeoutSeconds {timeout} out of range 1..{MaxAffinityTimeoutSeconds}");
        if (spec.ExternalTrafficPolicy is { } etp && !TrafficPolicies.Contains(etp))
            Error($"spec.externalTrafficPolicy \"{etp}\" is not one of {string.Join(", ", TrafficPolicies)}");
        if (spec.InternalTrafficPolicy is { } itp && !TrafficPolicies.Contains(itp))
            Error($"spec.internalTrafficPolicy \"{itp}\" is not one of {string.Join(", ", TrafficPolicies)}");
        if (spec.HealthCheckNodePort is { } hc && hc != 0 && hc is < 1 or > 65535)
            Error($"spec.healthCheckNodePort {hc} out of range 1..65535");

        IList<string> externalIps = spec.ExternalIPs ?? [];
        for (int i = 0; i < externalIps.Count; i++)
        {
            if (!IpText.IsValid(externalIps[i], out _)) Error($"spec.externalIPs[{i}] \"{externalIps[i]}\" is not an IP address");
        }
        IList<V1LoadBalancerIngress> ingress = service.Status?.LoadBalancer?.Ingress ?? [];
        for (int i = 0; i < ingress.Count; i++)
        {
            if (ingress[i]?.Ip is { Length: > 0 } ip && !IpText.IsValid(ip, out _))
                Error($"status.loadBalancer.ingress[{i}].ip \"{ip}\" is not an IP address");
            if (ingress[i]?.IpMode is { } mode && mode is not (WellKnownLabels.IpModeVip or WellKnownLabels.IpModeProxy))
                Error($"status.loadBalancer.ingress[{i}].ipMode \"{mode}\" is not one of {WellKnownLabels.IpModeVip}, {WellKnownLabels.IpModeProxy}");
        }
        return errors.List;
    }

    private static void ValidateClusterIps(V1ServiceSpec spec, ref Problems errors)
    {
        if (!string.IsNullOrEmpty(spec.ClusterIP) && spec.ClusterIP != "None" && !IpText.IsValid(spec.ClusterIP, out _))
            errors.Add($"spec.clusterIP \"{spec.ClusterIP}\" is not an IP address or None");

        IList<string> clusterIps = spec.ClusterIPs ?? [];
        if (clusterIps.Count > 2) errors.Add($"spec.clusterIPs has {clusterIps.Count} entries, at most 2 (one per family) are allowed");
        bool seenIPv4 = false, seenIPv6 = false;
        for (int i = 0; i < clusterIps.Count; i++)
        {
            string text = clusterIps[i];
            if (text == "None")
            {
                if (clusterIps.Count > 1) errors.Add("spec.clusterIPs may hold \"None\" only as its single entry");
                continue;
            }
            if (!IpText.IsValid(text, out var family))
                errors.Add($"spec.clusterIPs[{i}] \"{text}\" is not an IP address or None");
            else if (family == AddressFamily.InterNetwork ? seenIPv4 : seenIPv6)
                errors.Add($"spec.clusterIPs[{i}] \"{text}\" repeats the {IpText.FamilyName(family)} family");
            else if (family == AddressFamily.InterNetwork)
                seenIPv4 = true;
            else
                seenIPv6 = true;
        }
        if (clusterIps.Count > 0 && !string.IsNullOrEmpty(spec.ClusterIP) && clusterIps[0] != spec.ClusterIP)
            errors.Add($"spec.clusterIPs[0] \"{clusterIps[0]}\" must equal spec.clusterIP \"{spec.ClusterIP}\"");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IReadOnlyList<string> Validate(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        var errors = new Problems("EndpointSlice", slice.Metadata);
        void Error(string message) => errors.Add(message);

        if (string.IsNullOrEmpty(slice.Metadata?.Name)) Error("metadata.name is required");
        ValidateNamespace(slice.Metadata, ref errors);
        if (slice.Metadata?.Labels?.TryGetValue(WellKnownLabels.ServiceName, out string? owner) != true || string.IsNullOrEmpty(owner))
            Error($"label {WellKnownLabels.ServiceName} is required to say which Service the slice belongs to");

        AddressFamily? family = null;
        if (string.IsNullOrEmpty(slice.AddressType))
            Error("addressType is required");
        else if (!SliceAddressTypes.Contains(slice.AddressType))
            Error($"addressType \"{slice.AddressType}\" is not one of {string.Join(", ", SliceAddressTypes)}");
        else if (slice.AddressType != "FQDN")
            family = slice.AddressType == "IPv4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

        IList<Discoveryv1EndpointPort> ports = slice.Ports ?? [];
        for (int i = 0; i < ports.Count; i++)
        {
            string Field() => $"ports[{i}]";
            Discoveryv1EndpointPort? port = ports[i];
            if (port is null)
            {
                Error($"{Field()} is null");
                continue;
            }
            if (port.Port is { } number && number is < 1 or > 65535) Error($"{Field()}.port {number} out of range 1..65535");
            if (port.Protocol is { } protocol && !Protocols.Contains(protocol))
                Error($"{Field()}.protocol \"{protocol}\" is not one of {string.Join(", ", Protocols)}");
            if (UsedBefore(ports, i, p => p?.Name ?? "", port.Name ?? "")) Error($"{Field()}.name \"{port.Name}\" is used by more than one port");
        }

        IList<V1Endpoint> endpoints = slice.Endpoints ?? [];
        for (int i = 0; i < endpoints.Count; i++)
        {
            // The field name is spelled out only in an error: a slice has up to 1000 endpoints and most are valid.
            V1Endpoint? endpoint = endpoints[i];
            if (endpoint is null)
            {
                Error($"endpoints[{i}] is null");
                continue;
            }
            IList<string> addresses = endpoint.Addresses ?? [];
            if (addresses.Count == 0) Error($"endpoints[{i}].addresses must hold at least one address");
            if (family is not { } expected) continue;
            for (int j = 0; j < addresses.Count; j++)
            {
                if (!IpText.IsValid(addresses[j], out var addressFamily))
                    Error($"endpoints[{i}].addresses[{j}] \"{addresses[j]}\" is not an IP address");
                else if (addressFamily != expected)
                    Error($"endpoints[{i}].addresses[{j}] \"{addresses[j]}\" is not an {slice.AddressType} address");
            }
        }
        return errors.List;
    }

    // Namespaces, Service names and port names are what a frontend's display name is made of ("namespace/name:port"):
    // as DNS labels they hold no separator and fit the names map whole (63 + 1 + 63 + 1 + 63 bytes).
    private static void ValidateNamespace(V1ObjectMeta? metadata, ref Problems errors)
    {
        if (metadata?.NamespaceProperty is { Length: > 0 } ns && !IsDns1123Label(ns))
            errors.Add($"metadata.namespace \"{ns}\" must be a DNS-1123 label (at most 63 lowercase letters, digits and '-')");
    }

    /// <summary>Kubernetes' DNS-1123 label: 1..63 of [a-z0-9-], starting and ending with a letter or digit.</summary>
    public static bool IsDns1123Label(string text) =>
        text.Length is > 0 and <= 63 && IsLabelCharacters(text) && text[0] != '-' && text[^1] != '-';

    /// <summary>Kubernetes' DNS-1035 label (Service names): a DNS-1123 label that starts with a letter.</summary>
    public static bool IsDns1035Label(string text) => IsDns1123Label(text) && char.IsAsciiLetterLower(text[0]);

    private static bool IsLabelCharacters(string text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-') return false;
        }
        return true;
    }

    private static string Describe(V1ObjectMeta? metadata) =>
        string.IsNullOrEmpty(metadata?.Name) ? "<unnamed>" : ServiceName.Of(metadata).ToString();

    /// <summary>Whether an earlier item has the same name: ports are few, so a scan instead of a set made per object.</summary>
    private static bool UsedBefore<T>(IList<T> items, int index, Func<T, string> name, string value)
    {
        for (int earlier = 0; earlier < index; earlier++)
        {
            if (items[earlier] is not null && name(items[earlier]) == value) return true;
        }
        return false;
    }

    /// <summary>
    /// The errors of one object, each prefixed with the object's kind and name. Valid objects are the rule (every
    /// object of every list and manifest read is checked): nothing is allocated until the first error.
    /// </summary>
    private struct Problems(string kind, V1ObjectMeta? metadata)
    {
        private List<string>? errors;
        private string? subject;

        public void Add(string message) =>
            (errors ??= []).Add($"{subject ??= $"{kind} {Describe(metadata)}"}: {message}");

        public readonly IReadOnlyList<string> List => errors ?? (IReadOnlyList<string>)Array.Empty<string>();
    }
}
