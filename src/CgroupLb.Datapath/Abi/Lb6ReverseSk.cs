using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb6_reverse_sk_key</c>. Only the BPF programs write this map; the host counts it.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct Lb6ReverseSkKey
{
    [FieldOffset(0)] public ulong Cookie;
    [FieldOffset(8)] public Lb6Address Address;
    [FieldOffset(24)] public ushort PortBe;
    [FieldOffset(26)] public ushort Pad;
}

/// <summary>Mirror of <c>struct lb6_reverse_sk_value</c>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct Lb6ReverseSkValue
{
    [FieldOffset(0)] public Lb6Address Address;
    [FieldOffset(16)] public ushort PortBe;
    [FieldOffset(18)] public ushort Pad;
    [FieldOffset(20)] public uint ServiceId;
}
