using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Status;

/// <summary>What the kernel maps hold right now, as read from the pinned maps (not from any agent's memory).</summary>
public sealed record DatapathStatus(
    IReadOnlyList<FrontendStatus> Frontends,
    IReadOnlyList<MapUsage> Maps,
    IReadOnlyList<RefusedFrontendStatus> Refused,
    IReadOnlyList<string> Warnings);

/// <summary>
/// One frontend: its master entry, its backends in slot order, its counters summed over CPUs, and what is wrong
/// with its entries (empty when nothing is). <see cref="SubsetOf"/> is the Service's full backend count when only a
/// subset is programmed.
/// </summary>
public sealed record FrontendStatus(
    Frontend Frontend,
    uint ServiceId,
    string Name,
    ServiceFlags Flags,
    IReadOnlyList<BackendStatus> Backends,
    ServiceCounters Counters,
    IReadOnlyList<string> Problems,
    int? SubsetOf)
{
    /// <summary>sessionAffinity ClientIP: seconds a client keeps its backend after its last connect; null without affinity.</summary>
    public uint? AffinityTimeoutSeconds { get; init; }

    /// <summary>ClusterIP, NodePort, ExternalIP or LoadBalancer, from <see cref="Flags"/>.</summary>
    public FrontendKind Kind => FrontendKinds.Of(Flags);

    /// <summary>The owning Service, from <see cref="Name"/> ("namespace/name:port"); null when the name is missing.</summary>
    public ServiceName? Service => ServiceName.TryParse(Name, out var service) ? service : null;
}

/// <summary>A backend slot. <see cref="Backend"/> is null when the slot is a hole (a writer died mid-update).</summary>
public sealed record BackendStatus(int Slot, uint BackendId, Backend? Backend);

public sealed record ServiceCounters(ulong Translated, ulong RefusedNoBackend, ulong ReverseTranslated);

/// <summary>
/// A frontend the agent refused (<see cref="Programmed"/> false: the maps hold what they held before, or nothing) or
/// programmed only in part (a subset of its backends), from lb4_refused. <see cref="Reason"/> is the metric label.
/// </summary>
public sealed record RefusedFrontendStatus(
    Frontend Frontend,
    string Name,
    string Reason,
    bool Programmed,
    int Backends,
    int Limit,
    string Detail)
{
    /// <summary>The owning Service, from <see cref="Name"/>; null when the name is missing.</summary>
    public ServiceName? Service => ServiceName.TryParse(Name, out var service) ? service : null;
}

/// <summary>How full a map is: the fill ratio operators alert on before a write fails.</summary>
public sealed record MapUsage(string Name, long Entries, uint Capacity)
{
    public double FillRatio => Capacity == 0 ? 0 : (double)Entries / Capacity;
}
