using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>The pinned cgroup links, one file per program under DatapathOptions.LinksPath.</summary>
internal static class PinnedLinks
{
    public static string PathOf(DatapathOptions options, string program) => Path.Combine(options.LinksPath, program);

    /// <summary>The programs whose links are pinned, in catalog order.</summary>
    public static IReadOnlyList<string> Present(DatapathOptions options) =>
        [.. ProgramCatalog.All.Where(p => File.Exists(PathOf(options, p)))];

    /// <summary>
    /// Refuses to adopt links that run on another cgroup: the same --bpffs with a different --cgroup would otherwise
    /// leave the requested cgroup untranslated while the agent reports success.
    /// </summary>
    public static void CheckAttachedTo(DatapathOptions options, IReadOnlyList<string> present)
    {
        using var cgroup = CgroupDirectory.Open(options.CgroupPath);
        foreach (var program in present)
        {
            using var link = BpfLink.OpenPinned(PathOf(options, program));
            if (!cgroup.QueryAttachedPrograms(ProgramCatalog.Hooks[program]).Contains(link.ProgramId))
                throw new DatapathException("adopt",
                    $"the programs pinned under {options.BpffsPath} are attached to another cgroup, not {options.CgroupPath}; " +
                    $"detach them first (cgroup-lb detach --cgroup <their cgroup> --bpffs {options.BpffsPath}) or use another --bpffs");
        }
    }

    /// <summary>Detaches and unpins every link found; returns how many. Absent links are not an error.</summary>
    public static int DetachAll(DatapathOptions options, ILogger logger)
    {
        int detached = 0;
        foreach (var program in ProgramCatalog.All)
        {
            string path = PathOf(options, program);
            if (!File.Exists(path))
                continue;
            using var link = BpfLink.OpenPinned(path);
            link.Detach();
            link.Unpin();
            detached++;
            logger.LogDebug("Detached {Program} ({Path})", program, path);
        }
        return detached;
    }
}
