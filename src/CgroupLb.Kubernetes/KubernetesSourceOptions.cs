using CgroupLb.Kubernetes.Reflection;

namespace CgroupLb.Kubernetes;

public sealed record KubernetesSourceOptions
{
    /// <summary>The node this agent runs on; its Node object is watched (for topology). Null or empty: no node watch.</summary>
    public string? NodeName { get; init; }

    public ReflectorOptions Reflector { get; init; } = new();

    /// <summary>
    /// List through KubernetesClient's generated calls (whole API objects, one malformed object fails the page) instead
    /// of our list decoder. For comparison (the bench's before/after) and as a way back should the decoder misread
    /// something; not an agent flag.
    /// </summary>
    public bool TypedLists { get; init; }
}
