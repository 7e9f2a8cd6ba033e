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
    /// <summary>The default for <see cref="MaxFileBytes"/>: 64 MiB, about 60k Services with their slices of 10 endpoints in one file.</summary>
    public const long DefaultMaxFileBytes = 64L * 1024 * 1024;

    private static readonly string[] ManifestExtensions = [".yaml", ".yml", ".json"];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Func<string, byte[]>? readAllBytes;
    private readonly TimeProvider time;

    // What each file held when last read, to skip files whose stamp did not change and documents whose text did not.
    private readonly Dictionary<string, CachedFile> cacheByFile = new(StringComparer.Ordinal);
    private ManifestReadResult? lastResult;

    public ManifestReader()
        : this(DefaultMaxFileBytes)
    {
    }

    /// <param name="maxFileBytes">Larger files are not read (an error names them; their objects keep their last good state).</param>
    /// <param name="time">Decides when a file was modified too recently for its stamp to be trusted.</param>
    public ManifestReader(long maxFileBytes, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFileBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFileBytes, (long)Array.MaxLength - 1);
        MaxFileBytes = maxFileBytes;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>For tests: root can read any file, so permission failures are injected here. Nothing is cached.</summary>
    internal ManifestReader(Func<string, byte[]> readAllBytes)
        : this(DefaultMaxFileBytes)
    {
        this.readAllBytes = readAllBytes;
    }

    public long MaxFileBytes { get; }

    /// <summary>Drops everything cached, so the next <see cref="Read"/> reads and parses every file again.</summary>
    public void Forget()
    {
        cacheByFile.Clear();
        lastResult = null;
    }

    /// <summary>Files read (not served from the cache) by the last <see cref="Read"/>; for tests and benchmarks.</summary>
    public int FilesReadLastPass { get; private set; }

    /// <summary>
    /// One pass over <paramref name="path"/>. A path that does not exist is reported as an error with no files;
    /// callers that must not start without manifests check <see cref="ManifestPathNotFoundException.ThrowIfMissing"/> first.
    /// </summary>
    public ManifestReadResult Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var filePaths = new SortedSet<string>(StringComparer.Ordinal);
        var listingErrors = new List<ManifestError>();
        var unreadableDirectories = new List<string>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            filePaths.Add(path);
        }
        else if (Directory.Exists(path))
        {
            Walk(path);
        }
        else
        {
            lastResult = null;
            return ManifestReadResult.Create(path, [], [new ManifestError(path, null, null, "path does not exist")]);
        }

        var files = new List<ManifestFileResult>(filePaths.Count);
        var skipped = new List<ManifestError>();
        var unchanged = lastResult is { } last && last.Path == path && listingErrors.Count == 0 && last.UnreadableDirectories.Count == 0
            && last.Files.Count + last.Skipped.Count == filePaths.Count;
        FilesReadLastPass = 0;
        foreach (var filePath in filePaths)
        {
            var (file, skip, changed) = ReadCached(filePath);
            unchanged &= !changed;
            if (file is not null)
            {
                files.Add(file);
            }
            else if (skip is not null)
            {
                skipped.Add(skip);
            }
        }

        foreach (var gone in cacheByFile.Keys.Where(f => !filePaths.Contains(f)).ToList())
        {
            cacheByFile.Remove(gone);
        }

        // Nothing changed: the same result object, so the caller can tell without comparing anything.
        if (unchanged)
        {
            return lastResult!;
        }

        lastResult = ManifestReadResult.Create(path, files, listingErrors, unreadableDirectories, skipped);
        return lastResult;

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

    /// <summary>Reads and parses one file, bypassing the cache; null when it vanished before it could be opened or is not a regular file.</summary>
    public ManifestFileResult? ReadFile(string file) => ReadFresh(file, null).File;

    private (ManifestFileResult? File, ManifestError? Skipped, bool Changed) ReadCached(string file)
    {
        if (readAllBytes is null && cacheByFile.TryGetValue(file, out var cached) && !cached.Racy
            && ManifestFileStamp.Of(file, out _) is { } stamp && stamp == cached.Stamp)
        {
            return (cached.Result, cached.Skipped, false);
        }

        cacheByFile.TryGetValue(file, out var previous);
        var fresh = ReadFresh(file, previous);
        if (fresh.Stamp is { } freshStamp && readAllBytes is null)
        {
            cacheByFile[file] = new CachedFile(freshStamp, freshStamp.IsRacy(time.GetUtcNow()), fresh.File, fresh.Skipped, fresh.Documents);
        }
        else
        {
            cacheByFile.Remove(file);
        }

        FilesReadLastPass++;
        return (fresh.File, fresh.Skipped, true);
    }

    private FreshFile ReadFresh(string file, CachedFile? previous)
    {
        byte[] bytes;
        ManifestFileStamp? stamp = null;
        if (readAllBytes is not null)
        {
            try
            {
                bytes = readAllBytes(file);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return default;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                return new FreshFile(ManifestFileResult.Unreadable(file, $"cannot read: {e.Message}"), null, null, null);
            }
        }
        else
        {
            var content = ManifestFileContent.Read(file, MaxFileBytes);
            stamp = content.Stamp;
            if (content.Vanished)
            {
                return default;
            }

            if (content.Skipped is not null)
            {
                return new FreshFile(null, new ManifestError(file, null, null, content.Skipped), stamp, null);
            }

            if (content.Error is not null)
            {
                return new FreshFile(ManifestFileResult.Unreadable(file, content.Error), null, stamp, null);
            }

            bytes = content.Bytes!;
        }

        var bom = StrictUtf8.Preamble;
        var offset = bytes.AsSpan().StartsWith(bom) ? bom.Length : 0;
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes, offset, bytes.Length - offset);
        }
        catch (DecoderFallbackException e)
        {
            return new FreshFile(ManifestFileResult.Unreadable(file, $"is not UTF-8 text (invalid byte at offset {offset + e.Index})"), null, stamp, null);
        }

        var (result, documents) = Parse(file, text, previous?.Documents);
        return new FreshFile(result, null, stamp, documents);
    }

    /// <summary>Below this many documents to parse, one thread parses them (spreading them costs more than it saves).</summary>
    internal const int ParallelParseMinDocuments = 256;

    /// <summary>Parses a file's content; <paramref name="file"/> only names it in results and picks JSON or YAML.</summary>
    public static ManifestFileResult ParseFile(string file, string content) => Parse(file, content, null).Result;

    /// <summary>
    /// Parses a file's content, reusing the documents of <paramref name="previous"/> (the same file's last parse) whose
    /// text is unchanged: only edited documents are parsed again.
    /// </summary>
    private static (ManifestFileResult Result, Dictionary<ulong, ParsedText> Documents) Parse(
        string file, string content, Dictionary<ulong, ParsedText>? previous)
    {
        // JSON has no document separator; one file is one object (or one List).
        IReadOnlyList<YamlDocumentText> texts = file.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? string.IsNullOrWhiteSpace(content) ? [] : [new YamlDocumentText(0, 1, content)]
            : YamlDocumentSplitter.Split(content);

        // Reused documents first; what is left is parsed, in parallel when there is enough of it (the first read of a
        // large file), since each document's parse is independent and its buffers are per thread. Results are put
        // together in document order either way, so the outcome does not depend on how the work was spread.
        var parsedAll = new IReadOnlyList<ManifestDocument>?[texts.Count];
        int toParse = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            if (previous is not null && previous.TryGetValue(texts[i].Hash, out var earlier) && Relocate(earlier, texts[i]) is { } reused)
                parsedAll[i] = reused;
            else
                toParse++;
        }

        if (toParse >= ParallelParseMinDocuments && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                i => parsedAll[i] ??= ParseDocument(file, texts[i]));
        }
        else
        {
            for (int i = 0; i < texts.Count; i++)
                parsedAll[i] ??= ParseDocument(file, texts[i]);
        }

        var documents = new List<ManifestDocument>(texts.Count);
        var parsedByHash = new Dictionary<ulong, ParsedText>(texts.Count);
        for (int i = 0; i < texts.Count; i++)
        {
            var parsed = parsedAll[i]!;
            documents.AddRange(parsed);
            parsedByHash.TryAdd(texts[i].Hash, new ParsedText(texts[i].Index, texts[i].FirstLine, parsed));
        }

        return (new ManifestFileResult(file, documents, null), parsedByHash);
    }

    /// <summary>One document; whatever goes wrong in it costs that document only, never the pass (or the agent).</summary>
    private static IReadOnlyList<ManifestDocument> ParseDocument(string file, YamlDocumentText text)
    {
        try
        {
            return ManifestDocumentParser.Parse(file, text);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return [new ManifestDocument(file, text.Index, null, text.FirstLine)
            {
                Errors = [new ManifestError(file, text.Index, null, $"cannot be read: {e.GetType().Name}: {e.Message}") { Line = text.FirstLine }],
            }];
        }
    }

    /// <summary>
    /// The documents parsed from the same text at another place: as they were when the place is the same, moved when
    /// every one of them is a valid object (their errors, if any, quote positions, so those are parsed again).
    /// </summary>
    private static IReadOnlyList<ManifestDocument>? Relocate(ParsedText earlier, YamlDocumentText text)
    {
        if (earlier.Index == text.Index && earlier.FirstLine == text.FirstLine)
        {
            return earlier.Documents;
        }

        if (earlier.Documents.Any(d => d.Object is null))
        {
            return null;
        }

        var lineShift = text.FirstLine - earlier.FirstLine;
        return [.. earlier.Documents.Select(d => d with
        {
            DocumentIndex = text.Index,
            Line = d.Line + lineShift,
            Object = d.Object! with { DocumentIndex = text.Index },
        })];
    }

    public static bool IsManifestFileName(string name) =>
        ManifestExtensions.Any(extension => name.EndsWith(extension, StringComparison.OrdinalIgnoreCase));

    /// <summary>The documents one text yielded, and where that text was.</summary>
    private sealed record ParsedText(int Index, int FirstLine, IReadOnlyList<ManifestDocument> Documents);

    private sealed record CachedFile(
        ManifestFileStamp Stamp, bool Racy, ManifestFileResult? Result, ManifestError? Skipped, Dictionary<ulong, ParsedText>? Documents);

    private readonly record struct FreshFile(
        ManifestFileResult? File, ManifestError? Skipped, ManifestFileStamp? Stamp, Dictionary<ulong, ParsedText>? Documents);
}
