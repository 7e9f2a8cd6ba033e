using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The map operations the writer needs, in ABI terms. The kernel implementation talks to pinned BPF maps;
/// tests use a recording fake, which is how the writer's ordering is checked without root.
/// Every method throws <see cref="CgroupLb.Interop.BpfException"/> (or the fake's equivalent) on failure.
/// </summary>
internal interface ILoadBalancerMaps
{
    uint ServiceEntryCapacity { get; }
    uint BackendCapacity { get; }

    /// <summary>lb_svc_stats' max_entries: service ids are 1..ServiceIdLimit-1 (0 is "none") and index that array.</summary>
    uint ServiceIdLimit { get; }

    IReadOnlyList<KeyValuePair<Lb4ServiceKey, LbServiceValue>> ReadServiceEntries();
    IReadOnlyList<KeyValuePair<uint, Lb4Backend>> ReadBackends();
    string? ReadName(uint serviceId);

    void UpdateBackends(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb4Backend> values);
    void UpdateServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<LbServiceValue> values);
    void DeleteServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys);
    void DeleteBackends(ReadOnlySpan<uint> ids);
    void WriteName(uint serviceId, string name);
    void DeleteName(uint serviceId);
    void ResetStats(uint serviceId);
}
