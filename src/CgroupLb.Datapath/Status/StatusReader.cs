using CgroupLb.Datapath.Abi;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Status;

/// <summary>
/// Turns a <see cref="MapSnapshot"/> into a <see cref="DatapathStatus"/>, sorted by frontend. Reads only: it takes an
/// <see cref="ILoadBalancerMapReader"/>, so it cannot change what it reports on.
/// </summary>
internal static class StatusReader
{
    public static DatapathStatus Read(ILoadBalancerMapReader maps, bool withCounters = true, INodeAddressMapReader? nodeAddresses = null)
    {
        var snapshot = MapSnapshot.Read(maps);
        var subsets = new Dictionary<Frontend, int>();
        var refused = new List<RefusedFrontendStatus>(snapshot.Refused.Count);
        foreach (var (key, value) in snapshot.Refused)
        {
            var frontend = key.Frontend;
            var reason = (LbRefusalReason)value.Reason;
            if (reason == LbRefusalReason.Subset)
                subsets[frontend] = (int)value.Backends;
            refused.Add(new RefusedFrontendStatus(frontend, value.NameText, Label(reason), reason == LbRefusalReason.Subset,
                (int)value.Backends, (int)value.Limit, value.DetailText));
        }
        refused.Sort((a, b) => a.Frontend.CompareTo(b.Frontend));

        var frontends = new List<FrontendStatus>(snapshot.Frontends.Count);
        foreach (var f in snapshot.Frontends)
        {
            var list = new List<BackendStatus>(f.SlotBackendIds.Length);
            for (int i = 0; i < f.SlotBackendIds.Length; i++)
            {
                uint id = f.SlotBackendIds[i];
                list.Add(new BackendStatus(i + 1, id, snapshot.TryGetBackend(id, out var backend) ? backend : null));
            }
            frontends.Add(new FrontendStatus(f.Frontend, f.Master.ServiceId, f.Name, f.Master.ServiceFlags, list,
                withCounters ? maps.ReadCounters(f.Master.ServiceId) : NoCounters, f.Problems, subsets.TryGetValue(f.Frontend, out int total) ? total : null)
            {
                AffinityTimeoutSeconds = f.Master.ServiceFlags.HasFlag(ServiceFlags.Affinity) ? f.Master.AffinityTimeout : null,
            });
        }

        var warnings = new List<string>();
        if (snapshot.UnreachableEntries.Count > 0)
            warnings.Add($"{snapshot.UnreachableEntries.Count} lb4_services_v2/lb6_services entries no master reaches (left by an interrupted writer; the agent removes them on its next full sync)");
        if (snapshot.UnreferencedBackends.Count > 0)
            warnings.Add($"{snapshot.UnreferencedBackends.Count} lb4_backends_v2/lb6_backends_v2 entries no slot names (a change in flight, or left by an interrupted writer)");

        var usage = new List<MapUsage>
        {
            new(MapNames.Services, snapshot.ServiceEntries, snapshot.ServiceEntryCapacity),
            new(MapNames.Backends, snapshot.Backends4, snapshot.BackendCapacity),
            maps.ReverseSocketUsage(),
            new(MapNames.Services6, snapshot.ServiceEntries6, snapshot.ServiceEntryCapacity6),
            new(MapNames.Backends6, snapshot.Backends6, snapshot.BackendCapacity),
            maps.ReverseSocketUsage6(),
        };
        if (maps.AffinityUsage() is { } affinity)
            usage.Add(affinity);
        if (nodeAddresses is not null)
            usage.AddRange(nodeAddresses.NodeAddressUsage());
        return new DatapathStatus(frontends, usage, refused, warnings);
    }

    private static readonly ServiceCounters NoCounters = new(0, 0, 0);

    /// <summary>The label status and metrics show for a stored reason; unknown values (a newer agent) by number.</summary>
    public static string Label(LbRefusalReason reason) => reason switch
    {
        LbRefusalReason.Subset => "subset",
        LbRefusalReason.ServiceMapFull => RefusalReason.ServiceMapFull.Label(),
        LbRefusalReason.BackendMapFull => RefusalReason.BackendMapFull.Label(),
        LbRefusalReason.NoServiceId => RefusalReason.NoServiceId.Label(),
        LbRefusalReason.Unsupported => RefusalReason.Unsupported.Label(),
        LbRefusalReason.WriteFailed => RefusalReason.WriteFailed.Label(),
        _ => $"reason_{(uint)reason}",
    };
}
