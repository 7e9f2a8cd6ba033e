namespace CgroupLb.Manifests;

/// <summary>
/// Who an object is, independent of where it is written: kind plus namespace/name, as the API server would key it.
/// Nodes are cluster-scoped, so their <see cref="Namespace"/> is empty.
/// </summary>
public readonly record struct ManifestObjectKey(ManifestKind Kind, string Namespace, string Name)
    : IComparable<ManifestObjectKey>
{
    public int CompareTo(ManifestObjectKey other)
    {
        var byKind = Kind.CompareTo(other.Kind);
        if (byKind != 0)
        {
            return byKind;
        }

        var byNamespace = string.CompareOrdinal(Namespace, other.Namespace);
        return byNamespace != 0 ? byNamespace : string.CompareOrdinal(Name, other.Name);
    }

    /// <summary>"Service default/web", "Node demo-node".</summary>
    public override string ToString() =>
        Namespace.Length == 0 ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}
