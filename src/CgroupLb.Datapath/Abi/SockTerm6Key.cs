using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct sock_term6_key</c> (bpf/lib/sock_term_abi.h): an IPv6 backend that left a frontend.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct SockTerm6Key
{
    [FieldOffset(0)] public Lb6Address BackendAddress;
    [FieldOffset(16)] public Lb6Address FrontendAddress;
    [FieldOffset(32)] public ushort BackendPortBe;
    [FieldOffset(34)] public ushort FrontendPortBe;
    [FieldOffset(36)] public byte Proto;
    [FieldOffset(37)] public byte Pad;
}
