using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb_datapath_config</c>, the program's read-only configuration at offset 0 of .rodata.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct LbDatapathConfig
{
    [FieldOffset(0)] public uint HaveSetRetval;
    [FieldOffset(4)] public uint Features;
    [FieldOffset(8)] public uint HaveSkStorage;
    [FieldOffset(12)] public uint HaveRingbuf;
    [FieldOffset(16)] public ulong HostNetnsCookie;
    [FieldOffset(24)] public uint EnableSocketLbHostOnly;
    [FieldOffset(28)] public uint EnableNetnsExclusion;
    [FieldOffset(32)] public uint HaveRdonlyCast;
    /// <summary>lb4_sk_claim's entries (a power of two); 0: reverse entries go to socket storage only.</summary>
    [FieldOffset(36)] public uint SkClaimSlots;
}
