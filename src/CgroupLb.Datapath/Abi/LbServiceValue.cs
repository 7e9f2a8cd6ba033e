using System.Runtime.InteropServices;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb_service_value</c>: the master entry (slot 0) or one backend slot.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct LbServiceValue
{
    [FieldOffset(0)] public uint BackendId;
    [FieldOffset(4)] public uint ServiceId;
    [FieldOffset(8)] public ushort Count;
    [FieldOffset(10)] public ushort Flags;
    [FieldOffset(12)] public uint AffinityTimeout;

    /// <summary>The master entry (slot 0); the model's flags become ABI flag bits here and nowhere else.</summary>
    public static LbServiceValue Master(uint serviceId, ushort count, ServiceFlags flags, uint affinityTimeout) =>
        new() { ServiceId = serviceId, Count = count, Flags = (ushort)ServiceFlagsAbi.ToAbi(flags), AffinityTimeout = affinityTimeout };

    public static LbServiceValue Slot(uint serviceId, uint backendId) =>
        new() { ServiceId = serviceId, BackendId = backendId };

    /// <summary>A master entry's flags in the model's terms.</summary>
    public readonly ServiceFlags ServiceFlags => ServiceFlagsAbi.ToModel((LbServiceFlags)Flags);
}
