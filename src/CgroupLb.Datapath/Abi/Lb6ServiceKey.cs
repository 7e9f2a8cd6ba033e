using System.Net;
using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb6_service_key</c> (bpf/lib/lb_abi.h), the twin of <see cref="Lb4ServiceKey"/>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct Lb6ServiceKey : IEquatable<Lb6ServiceKey>
{
    [FieldOffset(0)] public Lb6Address Address;
    [FieldOffset(16)] public ushort PortBe;
    [FieldOffset(18)] public ushort BackendSlot;
    [FieldOffset(20)] public byte Proto;
    [FieldOffset(21)] public byte Scope;
    [FieldOffset(22)] public ushort Pad;

    public static Lb6ServiceKey Create(IPAddress address, ushort port, byte proto, ushort slot, LbScope scope = LbScope.External) =>
        new()
        {
            Address = Lb6Address.Create(address),
            PortBe = NetworkOrder.ToBe16(port),
            BackendSlot = slot,
            Proto = proto,
            Scope = (byte)scope,
        };

    public readonly ushort Port => NetworkOrder.FromBe16(PortBe);

    public readonly Lb6ServiceKey WithSlot(ushort slot) => this with { BackendSlot = slot };

    public readonly bool Equals(Lb6ServiceKey other) =>
        Address.Equals(other.Address) && PortBe == other.PortBe && BackendSlot == other.BackendSlot
        && Proto == other.Proto && Scope == other.Scope;

    public override readonly bool Equals(object? obj) => obj is Lb6ServiceKey k && Equals(k);
    public override readonly int GetHashCode() => HashCode.Combine(Address, PortBe, BackendSlot, Proto, Scope);
    public override readonly string ToString() => $"[{Address}]:{Port}/{Proto} slot {BackendSlot}";
}
