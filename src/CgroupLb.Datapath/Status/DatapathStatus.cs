using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Status;

/// <summary>What the kernel maps hold right now, as read from the pinned maps (not from any agent's memory).</summary>
public sealed record DatapathStatus(IReadOnlyList<FrontendStatus> Frontends, IReadOnlyList<MapUsage> Maps);

/// <summary>One frontend: its master entry, its backends in slot order, and its counters summed over CPUs.</summary>
public sealed record FrontendStatus(
    Frontend Frontend,
    uint ServiceId,
    string Name,
    ServiceFlags Flags,
    IReadOnlyList<BackendStatus> Backends,
    ServiceCounters Counters);

/// <summary>A backend slot. <see cref="Backend"/> is null when the slot is a hole (a writer died mid-update).</summary>
public sealed record BackendStatus(int Slot, uint BackendId, Backend? Backend);

public sealed record ServiceCounters(ulong Translated, ulong RefusedNoBackend, ulong ReverseTranslated);

/// <summary>How full a map is: the fill ratio operators alert on before a write fails.</summary>
public sealed record MapUsage(string Name, long Entries, uint Capacity)
{
    public double FillRatio => Capacity == 0 ? 0 : (double)Entries / Capacity;
}
