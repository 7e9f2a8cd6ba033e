using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The map operations the writer needs, in ABI terms: the reads of <see cref="Status.ILoadBalancerMapReader"/> plus
/// every write and delete. Only the owning agent's <see cref="BpfMapWriter"/> holds one. The kernel implementation
/// talks to pinned BPF maps; tests use a recording fake, which is how the writer's ordering is checked without root.
/// Multi-entry calls are one batch each where the kernel allows it.
/// Every method throws <see cref="CgroupLb.Interop.BpfException"/> (or the fake's equivalent) on failure.
/// </summary>
internal interface ILoadBalancerMaps : Status.ILoadBalancerMapReader
{
    void UpdateBackends(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb4Backend> values);
    void UpdateServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<LbServiceValue> values);
    void DeleteServiceEntries(ReadOnlySpan<Lb4ServiceKey> keys);
    void DeleteBackends(ReadOnlySpan<uint> ids);
    void WriteNames(ReadOnlySpan<uint> serviceIds, ReadOnlySpan<string> names);
    void DeleteNames(ReadOnlySpan<uint> serviceIds);
    void ResetStats(ReadOnlySpan<uint> serviceIds);
    void UpdateRefused(ReadOnlySpan<Lb4ServiceKey> keys, ReadOnlySpan<Lb4Refused> values);
    void DeleteRefused(ReadOnlySpan<Lb4ServiceKey> keys);

    // The IPv6 twins: lb6_services, lb6_backends_v2 (ids from the one space of lb4_backends_v2), lb6_refused.
    void UpdateBackends6(ReadOnlySpan<uint> ids, ReadOnlySpan<Lb6Backend> values);
    void UpdateServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb6ServiceValue> values);
    void DeleteServiceEntries6(ReadOnlySpan<Lb6ServiceKey> keys);
    void DeleteBackends6(ReadOnlySpan<uint> ids);
    void UpdateRefused6(ReadOnlySpan<Lb6ServiceKey> keys, ReadOnlySpan<Lb4Refused> values);
    void DeleteRefused6(ReadOnlySpan<Lb6ServiceKey> keys);
}
