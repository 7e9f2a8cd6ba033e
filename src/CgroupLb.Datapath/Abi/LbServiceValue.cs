using System.Runtime.InteropServices;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb_service_value_v2</c> (the value of lb4_services_v2): the master entry (slot 0) or one
/// backend slot. A slot carries its backend's address and port as well as its id, so the programs need no second
/// lookup; <see cref="Slot"/> is the one place a slot value is built, always from the backend its id names.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct LbServiceValue
{
    [FieldOffset(0)] public uint BackendId;
    [FieldOffset(4)] public uint ServiceId;
    [FieldOffset(8)] public ushort Count;
    [FieldOffset(10)] public ushort Flags;
    [FieldOffset(12)] public uint AffinityTimeout;
    [FieldOffset(16)] public uint BackendAddressBe;
    [FieldOffset(20)] public ushort BackendPortBe;
    [FieldOffset(22)] public ushort Pad;

    /// <summary>The master entry (slot 0); the model's flags become ABI flag bits here and nowhere else.</summary>
    public static LbServiceValue Master(uint serviceId, ushort count, ServiceFlags flags, uint affinityTimeout) =>
        new() { ServiceId = serviceId, Count = count, Flags = (ushort)ServiceFlagsAbi.ToAbi(flags), AffinityTimeout = affinityTimeout };

    /// <summary>Slot 1..count: the backend id (for the host) and a copy of that backend's address (for the programs).</summary>
    public static LbServiceValue Slot(uint serviceId, uint backendId, Backend backend) =>
        new()
        {
            ServiceId = serviceId,
            BackendId = backendId,
            BackendAddressBe = NetworkOrder.ToBe32(backend.Address),
            BackendPortBe = NetworkOrder.ToBe16(backend.Port),
        };

    /// <summary>A master entry's flags in the model's terms.</summary>
    public readonly ServiceFlags ServiceFlags => ServiceFlagsAbi.ToModel((LbServiceFlags)Flags);
}
