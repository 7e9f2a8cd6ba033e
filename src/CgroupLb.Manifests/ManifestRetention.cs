namespace CgroupLb.Manifests;

/// <summary>An object held at its last good state although this pass did not produce it, and why.</summary>
public sealed record ManifestRetention(ManifestObject Object, string Why)
{
    public override string ToString() => $"{Object.Key} from {Object.File}: {Why}";
}
