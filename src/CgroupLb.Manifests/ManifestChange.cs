using k8s;
using k8s.Models;

namespace CgroupLb.Manifests;

/// <summary>A {previous, current} pair for one object: previous null means created, current null means deleted.</summary>
public sealed record ManifestChange(
    ManifestObjectKey Key,
    IKubernetesObject<V1ObjectMeta>? Previous,
    IKubernetesObject<V1ObjectMeta>? Current);
