using k8s;
using k8s.Models;

namespace CgroupLb.Manifests;

/// <summary>
/// A valid object read from a manifest, with the place it came from. <see cref="Object"/> is a
/// <see cref="V1Service"/>, <see cref="V1EndpointSlice"/> or <see cref="V1Node"/> matching <see cref="ManifestObjectKey.Kind"/>,
/// already defaulted (namespace "default"); once handed out it is never mutated.
/// </summary>
public sealed record ManifestObject(
    ManifestObjectKey Key,
    IKubernetesObject<V1ObjectMeta> Object,
    string File,
    int DocumentIndex)
{
    /// <summary>
    /// Identifies the document text the object was decoded from (<see cref="TextHash"/>): equal fingerprints mean equal
    /// objects, so the source reports no change for them without comparing the objects themselves.
    /// </summary>
    public ulong Fingerprint { get; init; }
}
