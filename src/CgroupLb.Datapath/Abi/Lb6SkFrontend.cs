using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb6_sk_frontend</c>, the IPv6 twin of <see cref="Lb4SkFrontend"/> with the same rule and the
/// same flags (<see cref="Lb4SkFrontend.FlagMoreInReverseMap"/>, pointing at lb6_reverse_sk) and the same sendmsg6
/// translation cache (<see cref="Generation"/>, of lb_svc_gen). Only the BPF programs write it; the loader checks the
/// map's value size with it and the layout test pins the struct down.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct Lb6SkFrontend
{
    [FieldOffset(0)] public Lb6Address BackendAddress;
    [FieldOffset(16)] public Lb6Address FrontendAddress;
    [FieldOffset(32)] public ushort BackendPortBe;
    [FieldOffset(34)] public ushort FrontendPortBe;
    [FieldOffset(36)] public uint ServiceId;
    [FieldOffset(40)] public ushort Flags;
    [FieldOffset(42)] public ushort Pad;
    /// <summary>lb_svc_gen[service_id] as read before the lookups that chose this backend; 0: never reuse.</summary>
    [FieldOffset(44)] public uint Generation;
}
