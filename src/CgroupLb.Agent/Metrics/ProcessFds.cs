namespace CgroupLb.Agent.Metrics;

/// <summary>process_open_fds and process_max_fds as the Go client (and so kube-proxy) reports them, from /proc/self.</summary>
internal static class ProcessFds
{
    public static void Read(out int open, out long max)
    {
        open = 0;
        max = 0;
        try
        {
            open = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                // "Max open files            1024                 1048576              files"
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                    continue;
                string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0 && long.TryParse(fields[0], out long soft))
                    max = soft;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc hidden: the gauges stay at 0 rather than failing the scrape.
        }
    }
}
