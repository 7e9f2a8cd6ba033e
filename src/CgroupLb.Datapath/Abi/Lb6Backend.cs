using System.Net;
using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb6_backend</c>, the value of lb6_backends_v2 at index = backend id (one id space with lb4_backends_v2; all zero: free).</summary>
[StructLayout(LayoutKind.Explicit, Size = 20)]
internal struct Lb6Backend : IEquatable<Lb6Backend>
{
    [FieldOffset(0)] public Lb6Address Address;
    [FieldOffset(16)] public ushort PortBe;
    [FieldOffset(18)] public byte Proto;
    [FieldOffset(19)] public byte Flags;

    public static Lb6Backend Create(IPAddress address, ushort port, byte proto) =>
        new() { Address = Lb6Address.Create(address), PortBe = NetworkOrder.ToBe16(port), Proto = proto };

    public readonly ushort Port => NetworkOrder.FromBe16(PortBe);

    public readonly bool Equals(Lb6Backend other) =>
        Address.Equals(other.Address) && PortBe == other.PortBe && Proto == other.Proto && Flags == other.Flags;

    public override readonly bool Equals(object? obj) => obj is Lb6Backend b && Equals(b);
    public override readonly int GetHashCode() => HashCode.Combine(Address, PortBe, Proto, Flags);
}
