namespace CgroupLb.Manifests;

/// <summary>
/// One manifest file: its documents in order, or the reason it could not be read at all
/// (then <see cref="Documents"/> is empty and nothing is known about what it holds).
/// </summary>
public sealed record ManifestFileResult(string File, IReadOnlyList<ManifestDocument> Documents, ManifestError? ReadError)
{
    public static ManifestFileResult Unreadable(string file, string reason) =>
        new(file, [], new ManifestError(file, null, null, reason));
}
