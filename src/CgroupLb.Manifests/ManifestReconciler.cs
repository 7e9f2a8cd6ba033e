using k8s;

namespace CgroupLb.Manifests;

/// <summary>
/// Remembers what was last reported and turns each <see cref="ManifestReadResult"/> into the {previous, current}
/// pairs that bring a consumer up to date. Pure: no I/O, no clock, so every retention rule is unit-testable.
/// <para>
/// An object is deleted only when the manifests positively say it is gone: its document was removed from a file that
/// was read completely, or its file was deleted. Where the pass could not tell (its document is invalid, its file or
/// directory is unreadable, a document in its file is too broken to name its object) the last good state stays,
/// because dropping a working service over a typo is worse than keeping a stale one until the typo is fixed.
/// A vanished file must still be gone on the next pass: editors that save by rename-and-write, and ConfigMap
/// symlink swaps, briefly leave no file at all.
/// </para>
/// </summary>
public sealed class ManifestReconciler
{
    private readonly Dictionary<ManifestObjectKey, ReportedObject> reported = [];
    private HashSet<string> filesMissingOnce = new(StringComparer.Ordinal);

    /// <summary>The objects as last reported (including retained ones).</summary>
    public IEnumerable<ManifestObject> Reported => reported.Values.Select(r => r.Object);

    public ManifestReconcileResult Reconcile(ManifestReadResult read)
    {
        var desired = new Dictionary<ManifestObjectKey, ManifestObject>();
        foreach (var found in read.Objects)
        {
            desired[found.Key] = found;
        }

        var presentFiles = read.Files.Select(f => f.File).ToHashSet(StringComparer.Ordinal);
        var missingNow = new HashSet<string>(StringComparer.Ordinal);
        var retained = new List<ManifestRetention>();
        foreach (var (key, previous) in reported)
        {
            if (desired.ContainsKey(key))
            {
                continue;
            }

            var why = WhyRetain(read, key, previous.Object.File, presentFiles, missingNow);
            if (why is not null)
            {
                desired[key] = previous.Object;
                retained.Add(new ManifestRetention(previous.Object, why));
            }
        }

        filesMissingOnce = missingNow;

        var changes = new List<ManifestChange>();
        foreach (var key in reported.Keys.Union(desired.Keys).Order().ToList())
        {
            var previous = reported.GetValueOrDefault(key);
            if (!desired.TryGetValue(key, out var current))
            {
                changes.Add(new ManifestChange(key, previous!.Object.Object, null));
                reported.Remove(key);
                continue;
            }

            if (previous is null)
            {
                changes.Add(new ManifestChange(key, null, current.Object));
                reported[key] = new ReportedObject(current, Serialize(current));
                continue;
            }

            if (ReferenceEquals(previous.Object.Object, current.Object))
            {
                continue;
            }

            var json = Serialize(current);
            if (json != previous.Json)
            {
                changes.Add(new ManifestChange(key, previous.Object.Object, current.Object));
            }

            // Even when equal, remember where the object lives now (it may have moved to another file), but keep
            // handing out the instance the consumer already has.
            reported[key] = json == previous.Json
                ? new ReportedObject(current with { Object = previous.Object.Object }, json)
                : new ReportedObject(current, json);
        }

        retained.Sort((a, b) => a.Object.Key.CompareTo(b.Object.Key));
        return new ManifestReconcileResult(changes, retained, missingNow.Count > 0);
    }

    private string? WhyRetain(
        ManifestReadResult read, ManifestObjectKey key, string file, HashSet<string> presentFiles, HashSet<string> missingNow)
    {
        if (read.InvalidKeys.Contains(key))
        {
            return "its document is invalid";
        }

        if (read.FilesWithUnknownContent.Contains(file))
        {
            return "its file could not be read completely";
        }

        if (read.UnreadableDirectories.Any(directory => IsUnder(file, directory)))
        {
            return "its directory cannot be listed";
        }

        if (presentFiles.Contains(file) || filesMissingOnce.Contains(file))
        {
            return null;
        }

        missingNow.Add(file);
        return "its file vanished; deleting if it is still gone on the next read";
    }

    private static bool IsUnder(string file, string directory) =>
        file.Length > directory.Length
        && file.StartsWith(directory, StringComparison.Ordinal)
        && (file[directory.Length] == Path.DirectorySeparatorChar || directory.EndsWith(Path.DirectorySeparatorChar));

    private static string Serialize(ManifestObject found) => KubernetesJson.Serialize(found.Object);

    private sealed record ReportedObject(ManifestObject Object, string Json);
}
