using k8s.Models;

namespace CgroupLb.Model.Kubernetes;

/// <summary>
/// A Service's namespace/name: the key the change tracker records changes under and the owner prefix of every
/// <see cref="LoadBalancing.LoadBalancerService.Name"/> the service produces.
/// </summary>
public readonly record struct ServiceName(string Namespace, string Name) : IComparable<ServiceName>
{
    /// <summary>Manifests often omit the namespace; the API server would default it the same way.</summary>
    public const string DefaultNamespace = "default";

    public static ServiceName Of(V1ObjectMeta? metadata) =>
        new(string.IsNullOrEmpty(metadata?.NamespaceProperty) ? DefaultNamespace : metadata.NamespaceProperty, metadata?.Name ?? "");

    /// <summary>Parses "namespace/name", or the owner part of a load-balancer name "namespace/name:port".</summary>
    public static bool TryParse(string text, out ServiceName name)
    {
        int colon = text.IndexOf(':');
        string owner = colon < 0 ? text : text[..colon];
        int slash = owner.IndexOf('/');
        if (slash <= 0 || slash == owner.Length - 1)
        {
            name = default;
            return false;
        }
        name = new ServiceName(owner[..slash], owner[(slash + 1)..]);
        return true;
    }

    public int CompareTo(ServiceName other)
    {
        int c = string.CompareOrdinal(Namespace, other.Namespace);
        return c != 0 ? c : string.CompareOrdinal(Name, other.Name);
    }

    public override string ToString() => $"{Namespace}/{Name}";
}
