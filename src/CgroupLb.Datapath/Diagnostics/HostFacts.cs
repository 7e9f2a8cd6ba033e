namespace CgroupLb.Datapath.Diagnostics;

/// <summary>Facts about this host and process read from /proc and /sys: nothing here touches BPF.</summary>
internal static class HostFacts
{
    /// <summary>Linux capability numbers (include/uapi/linux/capability.h) the agent needs.</summary>
    public static readonly IReadOnlyList<(string Name, int Bit)> Capabilities =
    [
        ("CAP_SYS_ADMIN", 21), ("CAP_NET_ADMIN", 12), ("CAP_BPF", 39), ("CAP_PERFMON", 38), ("CAP_SYS_RESOURCE", 24),
    ];

    public static string KernelRelease() => ReadTrimmed("/proc/sys/kernel/osrelease") ?? Environment.OSVersion.VersionString;

    /// <summary>Major and minor of a release such as "6.18.0-1-amd64"; null when it does not start with them.</summary>
    public static Version? KernelVersion(string release)
    {
        var parts = release.Split('.', '-');
        return parts.Length >= 2 && int.TryParse(parts[0], out int major) && int.TryParse(parts[1], out int minor) ? new Version(major, minor) : null;
    }

    /// <summary>The effective capability set (CapEff in /proc/self/status), or null when unreadable.</summary>
    public static ulong? EffectiveCapabilities()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }

    /// <summary>The soft limit of a row of /proc/self/limits ("Max locked memory"); null when unreadable, -1 for unlimited.</summary>
    public static long? SoftLimit(string row)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith(row, StringComparison.Ordinal))
                    continue;
                string soft = line[row.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return soft == "unlimited" ? -1 : long.TryParse(soft, out long value) ? value : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>
    /// The libbpf this process loaded, by the file it mapped (libbpf.so.1.1.0 is 1.1.0): libbpf 1.1 has
    /// libbpf_major_version(), but a file name needs no binding and also says which file it is.
    /// </summary>
    public static string? LoadedLibbpf()
    {
        try
        {
            if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libbpf.so.1", out var handle))
                return null;
            try
            {
                foreach (string line in File.ReadLines("/proc/self/maps"))
                {
                    int at = line.IndexOf('/', StringComparison.Ordinal);
                    if (at >= 0 && Path.GetFileName(line[at..]).StartsWith("libbpf.so", StringComparison.Ordinal))
                        return line[at..];
                }
            }
            finally
            {
                System.Runtime.InteropServices.NativeLibrary.Free(handle);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return "libbpf.so.1 (file not found in /proc/self/maps)";
    }

    /// <summary>Mount points of a filesystem type, from /proc/self/mountinfo.</summary>
    public static IReadOnlyList<string> MountsOf(string fileSystemType)
    {
        var mounts = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var parts = line.Split(' ');
            int dash = Array.IndexOf(parts, "-");
            if (parts.Length >= 5 && dash >= 0 && dash + 1 < parts.Length && parts[dash + 1] == fileSystemType)
                mounts.Add(parts[4].Replace("\\040", " ", StringComparison.Ordinal));
        }
        return mounts;
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
