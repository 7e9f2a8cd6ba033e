using k8s;
using k8s.Models;

namespace CgroupLb.Manifests;

/// <summary>
/// A valid object read from a manifest, with the place it came from. <see cref="Object"/> is a
/// <see cref="V1Service"/>, <see cref="V1EndpointSlice"/> or <see cref="V1Node"/> matching <see cref="ManifestObjectKey.Kind"/>,
/// already defaulted (namespace "default"); once handed out it is never mutated.
/// <para>
/// Once <see cref="ManifestSource"/> has delivered an object, its consumer keeps its own parsed copy, so the source
/// replaces the body with its identity (<see cref="ReleaseBody"/>): at 10k Services x 10 endpoints the bodies are
/// about 45 MB that nothing reads again. A released object is never delivered as a current state; the source reads
/// the files again instead (<see cref="ManifestReconciler.NeedsFreshRead"/>).
/// </para>
/// </summary>
public sealed record ManifestObject(
    ManifestObjectKey Key,
    IKubernetesObject<V1ObjectMeta> Object,
    string File,
    int DocumentIndex)
{
    // Null once released: the identity is then made from Key when asked for (rarely: a previous state delivered with
    // an update or deletion), so a released object costs nothing beyond this record.
    private IKubernetesObject<V1ObjectMeta>? body = Object;

    public IKubernetesObject<V1ObjectMeta> Object
    {
        get => body ?? Identity(Key);
        init => body = value;
    }

    /// <summary>
    /// Identifies the document text the object was decoded from (<see cref="TextHash"/>): equal fingerprints mean equal
    /// objects, so the source reports no change for them without comparing the objects themselves.
    /// </summary>
    public ulong Fingerprint { get; init; }

    /// <summary>Whether <see cref="Object"/> is only the identity left by <see cref="ReleaseBody"/>.</summary>
    public bool IsReleased => body is null || body is IReleasedManifestBody;

    /// <summary>
    /// Drops the body: <see cref="Object"/> is then an object of the same kind that carries only its name and namespace
    /// (what a consumer needs of a previous state), a new one each time. Idempotent. Only for objects that were delivered.
    /// </summary>
    internal void ReleaseBody() => body = null;

    /// <summary>Whether both carry the very same body (never true of released objects); allocates nothing.</summary>
    internal bool HasSameBodyAs(ManifestObject other) => body is not null && ReferenceEquals(body, other.body);

    private static IKubernetesObject<V1ObjectMeta> Identity(ManifestObjectKey key)
    {
        var metadata = new V1ObjectMeta { Name = key.Name, NamespaceProperty = key.Namespace.Length == 0 ? null : key.Namespace };
        return key.Kind switch
        {
            ManifestKind.Service => new ReleasedService { ApiVersion = "v1", Kind = "Service", Metadata = metadata },
            ManifestKind.EndpointSlice => new ReleasedEndpointSlice { ApiVersion = "discovery.k8s.io/v1", Kind = "EndpointSlice", Metadata = metadata },
            ManifestKind.Node => new ReleasedNode { ApiVersion = "v1", Kind = "Node", Metadata = metadata },
            _ => throw new System.Diagnostics.UnreachableException($"unknown manifest kind {key.Kind}"),
        };
    }

    private interface IReleasedManifestBody;

    private sealed record ReleasedService : V1Service, IReleasedManifestBody;

    private sealed record ReleasedEndpointSlice : V1EndpointSlice, IReleasedManifestBody;

    private sealed record ReleasedNode : V1Node, IReleasedManifestBody;
}
