using System.Net;
using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb4_backend</c>, the value of lb4_backends_v2 at index = backend id (all zero: a free id).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct Lb4Backend : IEquatable<Lb4Backend>
{
    [FieldOffset(0)] public uint AddressBe;
    [FieldOffset(4)] public ushort PortBe;
    [FieldOffset(6)] public byte Proto;
    [FieldOffset(7)] public byte Flags;

    public static Lb4Backend Create(IPAddress address, ushort port, byte proto) =>
        new() { AddressBe = NetworkOrder.ToBe32(address), PortBe = NetworkOrder.ToBe16(port), Proto = proto };

    public readonly IPAddress Address => NetworkOrder.FromBe32(AddressBe);
    public readonly ushort Port => NetworkOrder.FromBe16(PortBe);

    public readonly bool Equals(Lb4Backend other) =>
        AddressBe == other.AddressBe && PortBe == other.PortBe && Proto == other.Proto && Flags == other.Flags;

    public override readonly bool Equals(object? obj) => obj is Lb4Backend b && Equals(b);
    public override readonly int GetHashCode() => HashCode.Combine(AddressBe, PortBe, Proto, Flags);
}
