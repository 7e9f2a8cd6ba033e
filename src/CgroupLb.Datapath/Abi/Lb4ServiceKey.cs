using System.Net;
using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb4_service_key</c> (bpf/lib/lb_abi.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
internal struct Lb4ServiceKey : IEquatable<Lb4ServiceKey>
{
    [FieldOffset(0)] public uint AddressBe;
    [FieldOffset(4)] public ushort PortBe;
    [FieldOffset(6)] public ushort BackendSlot;
    [FieldOffset(8)] public byte Proto;
    [FieldOffset(9)] public byte Scope;
    [FieldOffset(10)] public ushort Pad;

    public static Lb4ServiceKey Create(IPAddress address, ushort port, byte proto, ushort slot, LbScope scope = LbScope.External) =>
        new()
        {
            AddressBe = NetworkOrder.ToBe32(address),
            PortBe = NetworkOrder.ToBe16(port),
            BackendSlot = slot,
            Proto = proto,
            Scope = (byte)scope,
        };

    public readonly IPAddress Address => NetworkOrder.FromBe32(AddressBe);
    public readonly ushort Port => NetworkOrder.FromBe16(PortBe);

    public readonly Lb4ServiceKey WithSlot(ushort slot) => this with { BackendSlot = slot };

    public readonly bool Equals(Lb4ServiceKey other) =>
        AddressBe == other.AddressBe && PortBe == other.PortBe && BackendSlot == other.BackendSlot
        && Proto == other.Proto && Scope == other.Scope;

    public override readonly bool Equals(object? obj) => obj is Lb4ServiceKey k && Equals(k);
    public override readonly int GetHashCode() => HashCode.Combine(AddressBe, PortBe, BackendSlot, Proto, Scope);
    public override readonly string ToString() => $"{Address}:{Port}/{Proto} slot {BackendSlot}";
}
