using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// --exclude-netns: the network namespaces whose sockets the programs leave alone in every mode, named by path
/// (<c>/run/netns/NAME</c>, <c>/proc/PID/ns/net</c>) and turned into the cookies lb_skip_netns is keyed by.
/// <see cref="Resolve"/> runs again on every full sync: a namespace that went away (its path is gone) drops out, and
/// one whose path appeared later comes in; each change is logged once, not every sync.
/// </summary>
public sealed class NetnsExclusion
{
    private readonly IReadOnlyList<string> paths;
    private readonly Func<string, ulong?> cookieOf;
    private readonly ILogger logger;
    private readonly Dictionary<string, ulong?> lastByPath = [];

    /// <param name="paths">The namespace files as given on the command line.</param>
    /// <param name="cookieOf">
    /// A path's namespace cookie, or null when the path does not exist (any more); throws for other failures.
    /// <see cref="CookieOfPath"/> in the agent, a table in tests.
    /// </param>
    public NetnsExclusion(IReadOnlyList<string> paths, Func<string, ulong?> cookieOf, ILogger logger)
    {
        this.paths = paths;
        this.cookieOf = cookieOf;
        this.logger = logger;
    }

    public IReadOnlyList<string> Paths => paths;

    /// <summary>
    /// Refuses the exclusion on a kernel that cannot tell user space a namespace's cookie (SO_NETNS_COOKIE needs Linux
    /// 5.14): the agent could not name the namespaces to the programs at all.
    /// </summary>
    public static void CheckSupported(IReadOnlyList<string> paths)
    {
        if (paths.Count > 0 && NetworkNamespace.CurrentThreadCookie() is null)
            throw new DatapathException("configure",
                $"--exclude-netns ({string.Join(", ", paths)}) needs the kernel to report network namespace cookies (SO_NETNS_COOKIE, " +
                "Linux 5.14 or newer); this kernel cannot, so the programs could not tell the namespaces apart. Remove the flag, " +
                "or use --host-namespace-only, which needs no cookie from user space");
    }

    /// <summary>The cookie of the namespace at <paramref name="path"/>; null when nothing is there any more.</summary>
    public static ulong? CookieOfPath(string path)
    {
        try
        {
            using var netns = NetworkNamespace.Open(path);
            return netns.GetCookie()
                ?? throw new DatapathException("configure", $"cannot read the cookie of network namespace {path} (SO_NETNS_COOKIE needs Linux 5.14)");
        }
        catch (BpfException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
        {
            return null;
        }
    }

    /// <summary>The cookies of the namespaces that exist now. A path that fails otherwise is logged and left out.</summary>
    public IReadOnlySet<ulong> Resolve()
    {
        var cookies = new HashSet<ulong>();
        foreach (string path in paths)
        {
            ulong? cookie;
            try
            {
                cookie = cookieOf(path);
            }
            catch (Exception e) when (e is BpfException or DatapathException or IOException or UnauthorizedAccessException)
            {
                if (!lastByPath.TryGetValue(path, out var before) || before is not null)
                    logger.LogWarning("Excluded network namespace {Path} cannot be read ({Message}); its sockets are translated until it can", path, e.Message);
                lastByPath[path] = null;
                continue;
            }
            bool known = lastByPath.TryGetValue(path, out var previous);
            if (cookie is { } value)
            {
                cookies.Add(value);
                if (!known || previous != value)
                    logger.LogInformation("Excluding network namespace {Path} (cookie {Cookie}) from the socket LB", path, value);
            }
            else if (!known || previous is not null)
            {
                logger.LogWarning("Excluded network namespace {Path} does not exist{Now}; excluded again once it appears",
                    path, known ? " any more" : "");
            }
            lastByPath[path] = cookie;
        }
        return cookies;
    }
}
