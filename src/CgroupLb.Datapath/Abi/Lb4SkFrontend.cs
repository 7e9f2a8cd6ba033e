using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb4_sk_frontend</c>, the socket-local storage value of lb4_sk_frontend. Only the BPF programs
/// write it; user space cannot look it up by cookie and reads it only from inet_diag dumps (socket termination's
/// netlink path). The loader checks the map's value size with it and the layout test pins the struct down.
/// The generation (24 bits, lb_svc_gen) under which sendmsg4 may reuse the pair took the high byte of the former
/// 16-bit flags and the pad: 20 bytes as before, and entries of older builds read as generation 0, never reused.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 20)]
internal struct Lb4SkFrontend
{
    /// <summary>LB4_SK_F_MORE_IN_REVERSE_MAP: further backends of this (unconnected UDP) socket are in lb4_reverse_sk.</summary>
    public const byte FlagMoreInReverseMap = 1;

    [FieldOffset(0)] public uint BackendAddressBe;
    [FieldOffset(4)] public uint FrontendAddressBe;
    [FieldOffset(8)] public ushort BackendPortBe;
    [FieldOffset(10)] public ushort FrontendPortBe;
    [FieldOffset(12)] public uint ServiceId;
    [FieldOffset(16)] public byte Flags;
    [FieldOffset(17)] public byte GenerationHi;
    [FieldOffset(18)] public ushort GenerationLo;

    /// <summary>lb_svc_gen[ServiceId] under which sendmsg4 may reuse the pair; 0: never.</summary>
    public readonly uint Generation => ((uint)GenerationHi << 16) | GenerationLo;
}
