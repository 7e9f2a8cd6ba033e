using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb_trace_control</c>, the only value of lb_trace_ctl. Tracers change <see cref="Tracers"/> with
/// atomic adds through a shared mapping of the map (it is BPF_F_MMAPABLE), never with a map update.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct LbTraceControl
{
    [FieldOffset(0)] public uint Tracers;
    [FieldOffset(4)] public uint Pad;
    [FieldOffset(8)] public ulong Lost;
}
