using CgroupLb.Kubernetes.Reflection;

namespace CgroupLb.Kubernetes;

public sealed record KubernetesSourceOptions
{
    /// <summary>The node this agent runs on; its Node object is watched (for topology). Null or empty: no node watch.</summary>
    public string? NodeName { get; init; }

    public ReflectorOptions Reflector { get; init; } = new();

    /// <summary>
    /// List and watch through KubernetesClient's generated calls (whole API objects; one malformed object fails its list
    /// page, or its watch event and with it the watch, which then relists) instead of our list and watch decoders. For
    /// comparison (the bench's before/after) and as a way back should the decoders misread something; not an agent flag.
    /// The name predates the watch decoder: it covers watches too.
    /// </summary>
    public bool TypedLists { get; init; }
}
