using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb6_sk_claim</c>, one entry of lb6_sk_claim: the IPv6 twin of <see cref="Lb4SkClaim"/>, by the
/// same rule, with as many entries, for connected sockets with a real IPv6 peer (a v4-mapped peer's entry is in
/// lb4_sk_claim). Only the BPF programs write it; the netlink terminator reads it by cookie.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
internal struct Lb6SkClaim
{
    [FieldOffset(0)] public ulong Cookie;
    [FieldOffset(8)] public ulong Owner;
    [FieldOffset(16)] public Lb6Address BackendAddress;
    [FieldOffset(32)] public Lb6Address FrontendAddress;
    [FieldOffset(48)] public ushort BackendPortBe;
    [FieldOffset(50)] public ushort FrontendPortBe;
    [FieldOffset(52)] public uint ServiceId;
}
