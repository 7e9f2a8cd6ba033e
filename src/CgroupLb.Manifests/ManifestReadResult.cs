namespace CgroupLb.Manifests;

/// <summary>
/// Everything one pass over the manifest path found. Besides the valid objects and the errors it says where
/// knowledge is missing, so a consumer can keep the last good state there instead of deleting objects it merely
/// could not read: <see cref="InvalidKeys"/> (invalid documents that still said who they are),
/// <see cref="FilesWithUnknownContent"/> (unreadable files, documents too broken to name their object) and
/// <see cref="UnreadableDirectories"/>.
/// </summary>
public sealed class ManifestReadResult
{
    private ManifestReadResult(
        string path,
        IReadOnlyList<ManifestFileResult> files,
        IReadOnlyList<ManifestError> listingErrors,
        IReadOnlyList<string> unreadableDirectories)
    {
        Path = path;
        Files = files;
        UnreadableDirectories = unreadableDirectories;

        var documentCount = files.Sum(f => f.Documents.Count);
        var objects = new List<ManifestObject>(documentCount);
        var firstDefinition = new Dictionary<ManifestObjectKey, ManifestObject>(documentCount);
        var errors = new List<ManifestError>(listingErrors);
        var ignored = new List<ManifestIgnoredDocument>();
        var invalidKeys = new HashSet<ManifestObjectKey>();
        var invalidDocuments = new List<ManifestDocument>();
        var filesWithUnknownContent = new HashSet<string>(StringComparer.Ordinal);

        foreach (var file in files)
        {
            if (file.ReadError is not null)
            {
                errors.Add(file.ReadError);
                filesWithUnknownContent.Add(file.File);
            }

            foreach (var document in file.Documents)
            {
                if (document.Ignored is not null)
                {
                    ignored.Add(document.Ignored);
                }
                else if (document.Object is { } found)
                {
                    if (firstDefinition.TryGetValue(found.Key, out var first))
                    {
                        // Like a second `kubectl create`: the object exists already, the later definition loses.
                        errors.Add(new ManifestError(found.File, found.DocumentIndex, found.Key.ToString(),
                            $"duplicate: {found.Key} is already defined in {first.File} doc {first.DocumentIndex}")
                        {
                            ListItemIndex = document.ListItemIndex,
                            Line = document.Line,
                        });
                        continue;
                    }

                    firstDefinition.Add(found.Key, found);
                    objects.Add(found);
                }
                else
                {
                    errors.AddRange(document.Errors);
                    if (document.Key is { } key)
                    {
                        invalidKeys.Add(key);
                        invalidDocuments.Add(document);
                    }
                    else
                    {
                        filesWithUnknownContent.Add(file.File);
                    }
                }
            }
        }

        Objects = objects;
        Errors = errors;
        Ignored = ignored;
        InvalidKeys = invalidKeys;
        InvalidDocuments = invalidDocuments;
        FilesWithUnknownContent = filesWithUnknownContent;
    }

    /// <summary>The path as configured; file names below are this path joined with their relative path.</summary>
    public string Path { get; }

    /// <summary>Every manifest file found, sorted by ordinal path, readable or not.</summary>
    public IReadOnlyList<ManifestFileResult> Files { get; }

    /// <summary>Valid objects in file and document order; for a duplicated identity, the first definition.</summary>
    public IReadOnlyList<ManifestObject> Objects { get; }

    /// <summary>Every error, in file and document order (listing failures first).</summary>
    public IReadOnlyList<ManifestError> Errors { get; }

    public IReadOnlyList<ManifestIgnoredDocument> Ignored { get; }

    public IReadOnlySet<ManifestObjectKey> InvalidKeys { get; }

    /// <summary>The invalid documents behind <see cref="InvalidKeys"/>, in file and document order.</summary>
    public IReadOnlyList<ManifestDocument> InvalidDocuments { get; }

    public IReadOnlySet<string> FilesWithUnknownContent { get; }

    public IReadOnlyList<string> UnreadableDirectories { get; }

    public static ManifestReadResult Create(
        string path,
        IReadOnlyList<ManifestFileResult> files,
        IReadOnlyList<ManifestError>? listingErrors = null,
        IReadOnlyList<string>? unreadableDirectories = null,
        IReadOnlyList<ManifestError>? skipped = null) =>
        new(path, files, listingErrors ?? [], unreadableDirectories ?? []) { Skipped = skipped ?? [] };

    /// <summary>Files not read because they are not regular files (FIFOs, sockets, devices), as notes to log once; they count as absent.</summary>
    public IReadOnlyList<ManifestError> Skipped { get; private init; } = [];
}
