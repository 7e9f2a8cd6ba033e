using CgroupLb.Kubernetes.Reflection;

namespace CgroupLb.Kubernetes;

public sealed record KubernetesSourceOptions
{
    /// <summary>The node this agent runs on; its Node object is watched (for topology). Null or empty: no node watch.</summary>
    public string? NodeName { get; init; }

    public ReflectorOptions Reflector { get; init; } = new();
}
