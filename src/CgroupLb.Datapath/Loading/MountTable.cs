namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Answers "which filesystem is this path on" from /proc/self/mountinfo, so preflight can say "bpffs is not
/// mounted at /sys/fs/bpf" instead of letting a pin fail later with a bare errno.
/// </summary>
internal static class MountTable
{
    /// <summary>The filesystem type of the longest mount point that contains <paramref name="path"/>, or null.</summary>
    public static string? FileSystemTypeOf(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        if (full.Length == 0) full = "/";
        string? bestType = null;
        int bestLength = -1;
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // Format: id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            var parts = line.Split(' ');
            int dash = Array.IndexOf(parts, "-");
            if (parts.Length < 5 || dash < 0 || dash + 1 >= parts.Length)
                continue;
            string mountPoint = Unescape(parts[4]);
            bool contains = mountPoint == "/" || full == mountPoint || full.StartsWith(mountPoint + "/", StringComparison.Ordinal);
            if (contains && mountPoint.Length >= bestLength)
            {
                bestLength = mountPoint.Length;
                bestType = parts[dash + 1];
            }
        }
        return bestType;
    }

    private static string Unescape(string s) =>
        s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
