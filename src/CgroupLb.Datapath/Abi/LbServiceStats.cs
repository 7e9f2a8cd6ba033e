using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb_service_stats</c>, one per CPU per service id.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct LbServiceStats
{
    [FieldOffset(0)] public ulong Translated;
    [FieldOffset(8)] public ulong RefusedNoBackend;
    [FieldOffset(16)] public ulong ReverseTranslated;
}
