using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb4_sk_claim</c>, one entry of lb4_sk_claim: the connected socket whose cookie it holds (indexed by
/// the cookie's low bits) was translated from the frontend to the backend named here (bpf/lib/sock_claim.h). Only the
/// BPF programs write it; the netlink terminator reads it by cookie.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct Lb4SkClaim
{
    /// <summary>LB4_SK_CLAIM_WRITING: set in <see cref="Cookie"/> while a claimant writes the entry.</summary>
    public const ulong Writing = 1UL << 63;

    /// <summary>LB4_SK_CLAIM_SLOTS: the agent's default number of entries.</summary>
    public const uint DefaultSlots = 262144;

    [FieldOffset(0)] public ulong Cookie;
    [FieldOffset(8)] public ulong Owner;
    [FieldOffset(16)] public uint BackendAddressBe;
    [FieldOffset(20)] public uint FrontendAddressBe;
    [FieldOffset(24)] public ushort BackendPortBe;
    [FieldOffset(26)] public ushort FrontendPortBe;
    [FieldOffset(28)] public uint ServiceId;
}
