using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct sock_term_event</c>: one socket the iterator closed, read from the iterator's output.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct SockTermEvent
{
    [FieldOffset(0)] public ulong Cookie;
    /// <summary>The peer; an IPv4 peer sits in the first four bytes, the rest zero.</summary>
    [FieldOffset(8)] public Lb6Address BackendAddress;
    [FieldOffset(24)] public ushort BackendPortBe;
    [FieldOffset(26)] public byte Proto;
    /// <summary>AF_INET (2) or AF_INET6 (10).</summary>
    [FieldOffset(27)] public byte Family;
    [FieldOffset(28)] public int Result;
}
