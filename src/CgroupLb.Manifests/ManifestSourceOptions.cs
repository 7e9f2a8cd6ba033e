namespace CgroupLb.Manifests;

public sealed class ManifestSourceOptions
{
    /// <summary>A manifest file, or a directory read recursively.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// How often everything is re-read regardless of file events: the fallback for file systems without inotify
    /// (some network and overlay mounts), exhausted inotify watches and missed events.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Quiet time after the last file event before re-reading, so a save that truncates, writes and renames in
    /// several steps is read once, complete.
    /// </summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Off leaves only polling (tests use it to prove the poll alone picks up edits).</summary>
    public bool WatchFileSystem { get; init; } = true;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Path);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PollInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(Debounce, TimeSpan.Zero);
    }
}
