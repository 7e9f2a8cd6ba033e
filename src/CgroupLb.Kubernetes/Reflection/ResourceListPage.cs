using CgroupLb.Kubernetes.Decoding;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>One page of a list: its items, the list's resourceVersion and the token for the next page (null on the last).</summary>
public sealed record ResourceListPage<T>(IList<T> Items, string? ResourceVersion, string? Continue)
{
    /// <summary>Objects of the page that could not be decoded, each refused alone (not in <see cref="Items"/>).</summary>
    public IReadOnlyList<RefusedObject> Refused { get; init; } = [];
}
