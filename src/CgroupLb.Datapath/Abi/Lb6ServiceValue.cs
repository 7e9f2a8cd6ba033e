using System.Runtime.InteropServices;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb6_service_value</c> (the value of lb6_services): <see cref="LbServiceValue"/> with a 16-byte
/// backend address. The master fields are the same, so <see cref="MasterFields"/> lets the one decoder read both.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 36)]
internal struct Lb6ServiceValue
{
    [FieldOffset(0)] public uint BackendId;
    [FieldOffset(4)] public uint ServiceId;
    [FieldOffset(8)] public ushort Count;
    [FieldOffset(10)] public ushort Flags;
    [FieldOffset(12)] public uint AffinityTimeout;
    [FieldOffset(16)] public Lb6Address BackendAddress;
    [FieldOffset(32)] public ushort BackendPortBe;
    [FieldOffset(34)] public ushort Pad;

    public static Lb6ServiceValue Master(uint serviceId, ushort count, ServiceFlags flags, uint affinityTimeout) =>
        new() { ServiceId = serviceId, Count = count, Flags = (ushort)ServiceFlagsAbi.ToAbi(flags), AffinityTimeout = affinityTimeout };

    public static Lb6ServiceValue Slot(uint serviceId, uint backendId, Backend backend) =>
        new()
        {
            ServiceId = serviceId,
            BackendId = backendId,
            BackendAddress = Lb6Address.Create(backend.Address),
            BackendPortBe = NetworkOrder.ToBe16(backend.Port),
        };

    /// <summary>The family-independent fields (ids, count, flags, affinity) in the IPv4 value's shape; no address.</summary>
    public readonly LbServiceValue MasterFields =>
        new() { BackendId = BackendId, ServiceId = ServiceId, Count = Count, Flags = Flags, AffinityTimeout = AffinityTimeout };
}
