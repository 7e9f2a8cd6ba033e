using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct sock_term_key</c> (bpf/lib/sock_term_abi.h): a backend that left a frontend.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct SockTermKey
{
    [FieldOffset(0)] public uint BackendAddressBe;
    [FieldOffset(4)] public uint FrontendAddressBe;
    [FieldOffset(8)] public ushort BackendPortBe;
    [FieldOffset(10)] public ushort FrontendPortBe;
    [FieldOffset(12)] public byte Proto;
    [FieldOffset(13)] public byte Pad;
}
