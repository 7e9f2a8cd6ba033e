using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb_affinity_key</c>: one client (network namespace) of one affine frontend (service id, shared
/// by both families). Only the BPF programs write this map; the host counts it and, as its owner, may delete entries.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct LbAffinityKey
{
    [FieldOffset(0)] public ulong NetnsCookie;
    [FieldOffset(8)] public uint ServiceId;
    [FieldOffset(12)] public uint Pad;
}

/// <summary>Mirror of <c>struct lb_affinity_value</c>: the client's backend, the slot it sat in, and its last use.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct LbAffinityValue
{
    /// <summary>bpf_ktime_get_ns() (CLOCK_MONOTONIC, in nanoseconds) of the last use the program wrote.</summary>
    [FieldOffset(0)] public ulong LastUsed;
    [FieldOffset(8)] public uint BackendId;
    [FieldOffset(12)] public ushort Slot;
    [FieldOffset(14)] public ushort Pad;
}
