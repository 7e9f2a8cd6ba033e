using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Status;

/// <summary>
/// Read access to the load-balancer maps, and nothing else: what `cgroup-lb status`, the metrics scrape and the
/// writer's reload decode through <see cref="MapSnapshot"/>. A reader holding only this interface cannot write or
/// delete an entry, so a read-only command can never break a live frontend.
/// </summary>
internal interface ILoadBalancerMapReader
{
    uint ServiceEntryCapacity { get; }

    /// <summary>
    /// Backends of both families together: ids are 1..BackendCapacity, indexes into the backend arrays, whose
    /// max_entries is one more (index 0 is "none").
    /// </summary>
    uint BackendCapacity { get; }

    /// <summary>lb_svc_stats' max_entries: service ids are 1..ServiceIdLimit-1 (0 is "none") and index that array.</summary>
    uint ServiceIdLimit { get; }

    IReadOnlyList<KeyValuePair<Lb4ServiceKey, LbServiceValue>> ReadServiceEntries();
    /// <summary>The backends in use (free ids, all-zero values of the array, left out), by id.</summary>
    IReadOnlyList<KeyValuePair<uint, Lb4Backend>> ReadBackends();
    IReadOnlyDictionary<uint, string> ReadNames();
    IReadOnlyList<KeyValuePair<Lb4ServiceKey, Lb4Refused>> ReadRefused();

    /// <summary>lb6_services' max_entries (IPv6 frontends count against their own map).</summary>
    uint ServiceEntryCapacity6 { get; }

    IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb6ServiceValue>> ReadServiceEntries6();
    IReadOnlyList<KeyValuePair<uint, Lb6Backend>> ReadBackends6();
    IReadOnlyList<KeyValuePair<Lb6ServiceKey, Lb4Refused>> ReadRefused6();

    /// <summary>The BPF counters of one service id, summed over CPUs (zeros when the id has none).</summary>
    ServiceCounters ReadCounters(uint serviceId);

    /// <summary>Entries and capacity of the reverse-socket map (only the programs write it).</summary>
    MapUsage ReverseSocketUsage();

    /// <summary>Entries and capacity of the IPv6 reverse-socket map.</summary>
    MapUsage ReverseSocketUsage6();

    /// <summary>Entries and capacity of lb_affinity (only the programs write it); null where it is not pinned.</summary>
    MapUsage? AffinityUsage();
}
