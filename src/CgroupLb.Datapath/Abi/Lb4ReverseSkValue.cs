using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb4_reverse_sk_value</c>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
internal struct Lb4ReverseSkValue
{
    [FieldOffset(0)] public uint AddressBe;
    [FieldOffset(4)] public ushort PortBe;
    [FieldOffset(6)] public ushort Pad;
    [FieldOffset(8)] public uint ServiceId;
}
