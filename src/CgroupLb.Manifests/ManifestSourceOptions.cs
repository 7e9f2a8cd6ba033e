namespace CgroupLb.Manifests;

public sealed class ManifestSourceOptions
{
    /// <summary>A manifest file, or a directory read recursively.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// How often the files are checked regardless of file events: the fallback for file systems without inotify
    /// (some network and overlay mounts), exhausted inotify watches and missed events. A check stats each file and
    /// reads only those whose size, times or inode changed, so it costs next to nothing when nothing changed.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the files are checked while file-system events arrive (the watcher is running), when that is longer
    /// than <see cref="PollInterval"/>: events report every edit, so the poll only covers what they cannot see, and
    /// a directory of 10k files would otherwise be listed and stat'ed every <see cref="PollInterval"/> for nothing.
    /// </summary>
    public TimeSpan WatchedPollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Quiet time after the last file event before re-reading, so a save that truncates, writes and renames in
    /// several steps is read once, complete.
    /// </summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Files larger than this are not read: an error names them and their objects keep their last good state.</summary>
    public long MaxFileBytes { get; init; } = ManifestReader.DefaultMaxFileBytes;

    /// <summary>Off leaves only polling (tests use it to prove the poll alone picks up edits).</summary>
    public bool WatchFileSystem { get; init; } = true;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Path);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PollInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WatchedPollInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(Debounce, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFileBytes, 1);
    }
}
