using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct sock_term_event</c>: one socket the iterator closed, read from the iterator's output.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct SockTermEvent
{
    [FieldOffset(0)] public ulong Cookie;
    [FieldOffset(8)] public uint BackendAddressBe;
    [FieldOffset(12)] public ushort BackendPortBe;
    [FieldOffset(14)] public byte Proto;
    [FieldOffset(15)] public byte Pad;
    [FieldOffset(16)] public int Result;
    [FieldOffset(20)] public uint Pad2;
}
