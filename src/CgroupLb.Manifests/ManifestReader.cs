using System.Text;

namespace CgroupLb.Manifests;

/// <summary>
/// Reads a manifest file, or every <c>*.yaml</c>, <c>*.yml</c> and <c>*.json</c> file below a directory (recursively,
/// in ordinal path order), the way <c>kubectl apply -R -f</c> takes them. Nothing is fatal: every problem becomes a
/// <see cref="ManifestError"/> and the rest is still read. Names starting with '.' are skipped: editor swap files,
/// and the <c>..data</c> twin directories of a mounted ConfigMap, which would otherwise define every object twice.
/// </summary>
public sealed class ManifestReader
{
    private static readonly string[] ManifestExtensions = [".yaml", ".yml", ".json"];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Func<string, byte[]> readAllBytes;

    public ManifestReader()
        : this(File.ReadAllBytes)
    {
    }

    /// <summary>For tests: root can read any file, so permission failures are injected here.</summary>
    internal ManifestReader(Func<string, byte[]> readAllBytes)
    {
        this.readAllBytes = readAllBytes;
    }

    /// <summary>
    /// One pass over <paramref name="path"/>. A path that does not exist is reported as an error with no files;
    /// callers that must not start without manifests check <see cref="ManifestPathNotFoundException.ThrowIfMissing"/> first.
    /// </summary>
    public ManifestReadResult Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            return ManifestReadResult.Create(path, ReadFile(path) is { } single ? [single] : []);
        }

        if (!Directory.Exists(path))
        {
            return ManifestReadResult.Create(path, [], [new ManifestError(path, null, null, "path does not exist")]);
        }

        var filePaths = new List<string>();
        var listingErrors = new List<ManifestError>();
        var unreadableDirectories = new List<string>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        Walk(path);
        filePaths.Sort(StringComparer.Ordinal);

        var files = new List<ManifestFileResult>(filePaths.Count);
        foreach (var filePath in filePaths)
        {
            if (ReadFile(filePath) is { } file)
            {
                files.Add(file);
            }
        }

        return ManifestReadResult.Create(path, files, listingErrors, unreadableDirectories);

        void Walk(string directory)
        {
            var info = new DirectoryInfo(directory);
            // A symlinked directory may point back up the tree.
            if (!visited.Add(info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName))
            {
                return;
            }

            List<FileSystemInfo> entries;
            try
            {
                entries = [.. info.EnumerateFileSystemInfos()];
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                unreadableDirectories.Add(directory);
                listingErrors.Add(new ManifestError(directory, null, null, $"cannot list directory: {e.Message}"));
                return;
            }

            foreach (var entry in entries)
            {
                if (entry.Name.StartsWith('.'))
                {
                    continue;
                }

                var entryPath = Path.Join(directory, entry.Name);
                if (entry is DirectoryInfo)
                {
                    Walk(entryPath);
                }
                else if (IsManifestFileName(entry.Name))
                {
                    filePaths.Add(entryPath);
                }
            }
        }
    }

    /// <summary>Reads and parses one file; null when it vanished before it could be opened.</summary>
    public ManifestFileResult? ReadFile(string file)
    {
        byte[] bytes;
        try
        {
            bytes = readAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return ManifestFileResult.Unreadable(file, $"cannot read: {e.Message}");
        }

        var bom = StrictUtf8.Preamble;
        var offset = bytes.AsSpan().StartsWith(bom) ? bom.Length : 0;
        string content;
        try
        {
            content = StrictUtf8.GetString(bytes, offset, bytes.Length - offset);
        }
        catch (DecoderFallbackException e)
        {
            return ManifestFileResult.Unreadable(file, $"is not UTF-8 text (invalid byte at offset {offset + e.Index})");
        }

        return ParseFile(file, content);
    }

    /// <summary>Parses a file's content; <paramref name="file"/> only names it in results and picks JSON or YAML.</summary>
    public static ManifestFileResult ParseFile(string file, string content)
    {
        // JSON has no document separator; one file is one object (or one List).
        IReadOnlyList<YamlDocumentText> texts = file.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? string.IsNullOrWhiteSpace(content) ? [] : [new YamlDocumentText(0, 1, content)]
            : YamlDocumentSplitter.Split(content);

        var documents = new List<ManifestDocument>();
        foreach (var text in texts)
        {
            documents.AddRange(ManifestDocumentParser.Parse(file, text));
        }

        return new ManifestFileResult(file, documents, null);
    }

    public static bool IsManifestFileName(string name) =>
        ManifestExtensions.Any(extension => name.EndsWith(extension, StringComparison.OrdinalIgnoreCase));
}
