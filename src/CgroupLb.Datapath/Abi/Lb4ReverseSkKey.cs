using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb4_reverse_sk_key</c>. Only the BPF programs write this map; the host reads it for diagnostics.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct Lb4ReverseSkKey
{
    [FieldOffset(0)] public ulong Cookie;
    [FieldOffset(8)] public uint AddressBe;
    [FieldOffset(12)] public ushort PortBe;
    [FieldOffset(14)] public ushort Pad;
}
