using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// lb_skip_netns, the network namespaces the programs leave alone (bpf/lib/netns_policy.h). Written only by the owning
/// agent: <see cref="Apply"/> makes the map hold exactly the given cookies, adding before it removes, so a namespace
/// that stays excluded is never briefly translated. <paramref name="consulted"/>: the programs were loaded with
/// enable_netns_exclusion and read the map; without it an exclusion would be written and silently ignored, so only
/// the empty set is taken.
/// </summary>
internal sealed class SkipNetnsMap(BpfMapHandle map, bool consulted) : IDisposable
{
    /// <summary>Adds the missing cookies and deletes the others; returns how many of each.</summary>
    public (int Added, int Removed) Apply(IReadOnlySet<ulong> cookies)
    {
        if (!consulted && cookies.Count > 0)
            throw new InvalidOperationException(
                $"cannot exclude {cookies.Count} network namespaces: the programs were loaded without netns exclusion " +
                $"(DatapathOptions.NetnsExclusion, set by --exclude-netns) and never read {MapNames.SkipNetns}");
        var present = map.Keys<ulong>().ToHashSet();
        int added = 0, removed = 0;
        foreach (ulong cookie in cookies)
        {
            if (present.Contains(cookie))
                continue;
            map.Update(cookie, default(LbSkipNetnsValue), BpfUpdateFlags.Any);
            added++;
        }
        foreach (ulong cookie in present)
        {
            if (!cookies.Contains(cookie) && map.Delete(cookie))
                removed++;
        }
        return (added, removed);
    }

    public IReadOnlySet<ulong> Read() => map.Keys<ulong>().ToHashSet();

    public void Dispose() => map.Dispose();
}
