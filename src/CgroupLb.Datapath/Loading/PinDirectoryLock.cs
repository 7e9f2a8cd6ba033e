using System.Diagnostics;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// One writer per bpffs directory. Two agents on the same --bpffs (a DaemonSet rollout with surge, a replacement pod
/// starting before the old one exits, a `run` by hand) would both allocate ids and delete each other's entries as
/// orphans. The lock is a flock on the pin directory itself, because that inode is the one thing every process and
/// every pod on the node shares (a lock file elsewhere is not shared between pods); the kernel drops it when the
/// holder exits, however it exits. Readers (`status`, metrics) never take it.
/// </summary>
public sealed class PinDirectoryLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private const string OtherNamespace = "a process in another PID namespace (another cgroup-lb pod on this node?)";
    private readonly DirectoryLock directoryLock;

    private PinDirectoryLock(DirectoryLock directoryLock) => this.directoryLock = directoryLock;

    public string Path => directoryLock.Path;

    /// <summary>
    /// Creates the bpffs directory if needed and takes its lock, waiting up to <paramref name="wait"/> for a holder to
    /// go. Throws a <see cref="DatapathException"/> (phase "lock") naming the directory and the holder when it cannot.
    /// </summary>
    public static PinDirectoryLock Acquire(string bpffsPath, TimeSpan wait, ILogger logger)
    {
        Preflight.CheckPrivileges();
        Preflight.CheckBpffs(bpffsPath);
        Directory.CreateDirectory(bpffsPath);
        var clock = Stopwatch.StartNew();
        bool logged = false;
        while (true)
        {
            if (DirectoryLock.TryAcquire(bpffsPath) is { } acquired)
            {
                if (logged)
                    logger.LogInformation("Took the lock on {Path} after waiting {Seconds:F1} s", bpffsPath, clock.Elapsed.TotalSeconds);
                return new PinDirectoryLock(acquired);
            }
            if (clock.Elapsed >= wait)
                throw new DatapathException("lock",
                    $"another agent owns {bpffsPath}: it is locked by {DescribeHolder(bpffsPath)} and was not released within " +
                    $"{wait.TotalSeconds:0.#} s; that agent keeps serving. Stop it first, or give this agent another --bpffs");
            if (!logged)
            {
                logger.LogWarning("Waiting up to {Seconds:0.#} s for the lock on {Path}, held by {Holder}", wait.TotalSeconds, bpffsPath, DescribeHolder(bpffsPath));
                logged = true;
            }
            Thread.Sleep(PollInterval);
        }
    }

    /// <summary>Takes the lock only if it is free right now (detach: never under a live agent); null when held.</summary>
    public static PinDirectoryLock? TryAcquire(string bpffsPath)
    {
        Preflight.CheckPrivileges();
        return Directory.Exists(bpffsPath) && DirectoryLock.TryAcquire(bpffsPath) is { } acquired ? new PinDirectoryLock(acquired) : null;
    }

    /// <summary>
    /// Who holds the lock, as far as this process can tell: /proc/locks gives the holder's PID in our PID namespace;
    /// a holder in another one (another pod) is hidden or shown as 0, where only "another PID namespace" can be said.
    /// </summary>
    public static string DescribeHolder(string bpffsPath)
    {
        try
        {
            string identity = DirectoryLock.LockIdentity(bpffsPath);
            foreach (string line in File.ReadLines("/proc/locks"))
            {
                // "1: FLOCK  ADVISORY  WRITE 4242 00:1e:1234 0 EOF"; blocked waiters are listed as "1: -> FLOCK ...".
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 6 || fields[1] != "FLOCK" || fields[5] != identity)
                    continue;
                if (!int.TryParse(fields[4], out int pid) || pid <= 0)
                    return OtherNamespace;
                return $"PID {pid}{CommandLineOf(pid)}";
            }
            // The kernel hides the locks of processes outside the reader's PID namespace from /proc/locks.
            return OtherNamespace;
        }
        catch (IOException)
        {
            return "an unknown process (/proc/locks is unreadable)";
        }
    }

    private static string CommandLineOf(int pid)
    {
        try
        {
            string command = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            return command.Length == 0 ? "" : $" ({(command.Length > 120 ? command[..120] + "..." : command)})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public void Dispose() => directoryLock.Dispose();
}
