using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb_skip_netns_value</c>, the value of lb_skip_netns (keyed by a netns cookie).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
internal struct LbSkipNetnsValue
{
    [FieldOffset(0)] public uint Reserved;
}
