using CgroupLb.Model.Kubernetes;

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
/// <para>
/// An invalid document with no last good state (the agent restarted while it was broken) has nothing to stand in for
/// it, yet the maps may still hold what a previous run wrote for its service. Such a service is held
/// (<see cref="ManifestHold"/>) until the document is fixed or positively removed, under the same rules as retention.
/// </para>
/// </summary>
public sealed class ManifestReconciler
{
    private readonly Dictionary<ManifestObjectKey, ReportedObject> reported = [];
    private HashSet<string> filesMissingOnce = new(StringComparer.Ordinal);
    private IReadOnlyList<ManifestHold> holds = [];

    /// <summary>The objects as last reported (including retained ones).</summary>
    public IEnumerable<ManifestObject> Reported => reported.Values.Select(r => r.Object);

    /// <summary>The holds in force after the last pass, sorted by service then object.</summary>
    public IReadOnlyList<ManifestHold> Holds => holds;

    /// <summary>
    /// Whether <paramref name="read"/> would make this reconciler report an object whose body was released
    /// (<see cref="ManifestObject.ReleaseBody"/>) as a current state: a document the reader served from its cache that
    /// differs from what was reported for its key (e.g. one of two definitions of an object took over). Rare; the caller
    /// then reads the files afresh, which gives every object its body back.
    /// </summary>
    public bool NeedsFreshRead(ManifestReadResult read)
    {
        foreach (var found in read.Objects)
        {
            if (found.IsReleased && !IsReportedAs(found))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Releases the bodies of every reported object (<see cref="ManifestObject.ReleaseBody"/>); call once they were
    /// delivered. Changes handed out earlier keep the objects they carry.
    /// </summary>
    public void ReleaseReportedBodies()
    {
        foreach (var reportedObject in reported.Values)
        {
            reportedObject.Object.ReleaseBody();
        }
    }

    private bool IsReportedAs(ManifestObject found) =>
        reported.TryGetValue(found.Key, out var previous)
        && (ReferenceEquals(previous.Object, found) || previous.Object.HasSameBodyAs(found)
            || (found.Fingerprint != 0 && found.Fingerprint == previous.Object.Fingerprint));

    public ManifestReconcileResult Reconcile(ManifestReadResult read)
    {
        if (NeedsFreshRead(read))
        {
            throw new InvalidOperationException("the read holds objects whose bodies were released and that differ from what was reported; read the files again");
        }

        // Sized from the read: the first read of 10k Services brings 20k objects at once, and growing tables by
        // doubling rehashed them several times over on fresh memory.
        var desired = new Dictionary<ManifestObjectKey, ManifestObject>(read.Objects.Count);
        reported.EnsureCapacity(read.Objects.Count);
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

        var changes = new List<ManifestChange>(reported.Count == 0 ? desired.Count : 0);
        // On the first read every key is new: no union to build.
        List<ManifestObjectKey> keys = reported.Count == 0 ? [.. desired.Keys] : reported.Keys.Union(desired.Keys).ToList();
        keys.Sort();
        foreach (var key in keys)
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
                reported[key] = new ReportedObject(current);
                continue;
            }

            if (ReferenceEquals(previous.Object, current) || previous.Object.HasSameBodyAs(current))
            {
                if (!ReferenceEquals(previous.Object, current))
                {
                    reported[key] = new ReportedObject(current);
                }

                continue;
            }

            // Decoded from the same text: the same object, wherever it lives now (it may have moved to another file).
            // Keep handing out the instance the consumer already has. Anything else is reported; the consumer's
            // trackers drop an update that changes nothing they use.
            if (current.Fingerprint != 0 && current.Fingerprint == previous.Object.Fingerprint)
            {
                if (previous.Object.IsReleased)
                {
                    // A fresh parse of unchanged text (a touched file): the reader's cache must not keep this body either.
                    current.ReleaseBody();
                    reported[key] = new ReportedObject(current);
                }
                else
                {
                    reported[key] = new ReportedObject(current with { Object = previous.Object.Object });
                }

                continue;
            }

            changes.Add(new ManifestChange(key, previous.Object.Object, current.Object));
            reported[key] = new ReportedObject(current);
        }

        // After the changes, so that `reported` says which keys have a state that stands in for their document.
        var (holdsNow, unattributed) = FindHolds(read, presentFiles, missingNow);
        filesMissingOnce = missingNow;
        var heldBefore = holds.Select(h => h.Service).ToHashSet();
        var heldNow = holdsNow.Select(h => h.Service).ToHashSet();
        holds = holdsNow;

        retained.Sort((a, b) => a.Object.Key.CompareTo(b.Object.Key));
        return new ManifestReconcileResult(changes, retained, missingNow.Count > 0)
        {
            Holds = holdsNow,
            HoldsAcquired = [.. heldNow.Except(heldBefore).Order()],
            HoldsReleased = [.. heldBefore.Except(heldNow).Order()],
            Unattributed = unattributed,
        };
    }

    private (List<ManifestHold> Holds, List<ManifestDocument> Unattributed) FindHolds(
        ManifestReadResult read, HashSet<string> presentFiles, HashSet<string> missingNow)
    {
        var found = new List<ManifestHold>();
        var unattributed = new List<ManifestDocument>();
        foreach (var document in read.InvalidDocuments)
        {
            var key = document.Key!.Value;
            if (reported.ContainsKey(key))
            {
                continue;
            }

            if (document.Service is { } service)
            {
                found.Add(new ManifestHold(service, key, document.File, document.DocumentIndex, "its document is invalid and there is no last good state"));
            }
            else if (key.Kind == ManifestKind.EndpointSlice)
            {
                unattributed.Add(document);
            }
        }

        // A hold whose document this pass did not see (nor a valid replacement) ends only where an object would be
        // deleted: its file was read completely without it, or stayed gone for a second pass.
        foreach (var previous in holds)
        {
            if (read.InvalidKeys.Contains(previous.Object) || reported.ContainsKey(previous.Object))
            {
                continue;
            }

            if (WhyFileUnknown(read, previous.File, presentFiles, missingNow, "releasing if it is still gone on the next read") is { } why)
            {
                found.Add(previous with { Why = why });
            }
        }

        found.Sort((a, b) =>
        {
            var byService = a.Service.CompareTo(b.Service);
            return byService != 0 ? byService : a.Object.CompareTo(b.Object);
        });
        return (found, unattributed);
    }

    private string? WhyRetain(
        ManifestReadResult read, ManifestObjectKey key, string file, HashSet<string> presentFiles, HashSet<string> missingNow) =>
        read.InvalidKeys.Contains(key)
            ? "its document is invalid"
            : WhyFileUnknown(read, file, presentFiles, missingNow, "deleting if it is still gone on the next read");

    /// <summary>Why this pass cannot tell what <paramref name="file"/> holds; null when it can (the file was read, or stayed gone).</summary>
    /// <param name="ifStillGone">What happens when a vanished file is still gone on the next pass, for the reason text.</param>
    private string? WhyFileUnknown(
        ManifestReadResult read, string file, HashSet<string> presentFiles, HashSet<string> missingNow, string ifStillGone)
    {
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
        return "its file vanished; " + ifStillGone;
    }

    private static bool IsUnder(string file, string directory) =>
        file.Length > directory.Length
        && file.StartsWith(directory, StringComparison.Ordinal)
        && (file[directory.Length] == Path.DirectorySeparatorChar || directory.EndsWith(Path.DirectorySeparatorChar));

    private sealed record ReportedObject(ManifestObject Object);
}
