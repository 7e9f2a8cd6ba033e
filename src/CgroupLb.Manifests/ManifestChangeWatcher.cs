namespace CgroupLb.Manifests;

/// <summary>
/// Turns file-system events under the manifest path into a "something changed" nudge. It carries no information
/// beyond that: the source re-checks every file (reading those whose stamp changed), so missed, duplicated or
/// reordered events cannot corrupt state.
/// A single file is watched through its directory, because editors replace files by rename and a watch on the
/// file itself would follow the old inode.
/// </summary>
internal sealed class ManifestChangeWatcher : IDisposable
{
    private readonly FileSystemWatcher watcher;
    private readonly string? fileName;
    private readonly Action changed;

    private ManifestChangeWatcher(FileSystemWatcher watcher, string? fileName, Action changed)
    {
        this.watcher = watcher;
        this.fileName = fileName;
        this.changed = changed;
    }

    /// <returns>The running watcher, or null with <paramref name="failure"/> saying why events are unavailable.</returns>
    public static ManifestChangeWatcher? TryStart(string path, Action changed, out string? failure)
    {
        var fullPath = Path.GetFullPath(path);
        var isDirectory = Directory.Exists(fullPath);
        var directory = isDirectory ? fullPath : Path.GetDirectoryName(fullPath)!;
        FileSystemWatcher? fileSystemWatcher = null;
        try
        {
            fileSystemWatcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = isDirectory,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite
                    | NotifyFilters.Size | NotifyFilters.Attributes | NotifyFilters.Security,
            };
            var result = new ManifestChangeWatcher(fileSystemWatcher, isDirectory ? null : Path.GetFileName(fullPath), changed);
            fileSystemWatcher.Changed += result.OnEvent;
            fileSystemWatcher.Created += result.OnEvent;
            fileSystemWatcher.Deleted += result.OnEvent;
            fileSystemWatcher.Renamed += result.OnEvent;
            // An overflow means events were lost; a re-read covers whatever they were.
            fileSystemWatcher.Error += (_, _) => changed();
            fileSystemWatcher.EnableRaisingEvents = true;
            failure = null;
            return result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            // Typically the inotify instance or watch limit (fs.inotify.max_user_*) is exhausted.
            fileSystemWatcher?.Dispose();
            failure = e.Message;
            return null;
        }
    }

    private void OnEvent(object sender, FileSystemEventArgs e)
    {
        if (fileName is null || e.Name == fileName || (e is RenamedEventArgs renamed && renamed.OldName == fileName))
        {
            changed();
        }
    }

    public void Dispose() => watcher.Dispose();
}
