namespace CgroupLb.Interop;

/// <summary>What the kernel reports about a map (<c>struct bpf_map_info</c> via bpf_obj_get_info_by_fd).</summary>
/// <param name="Type">Map type.</param>
/// <param name="Id">Kernel map id.</param>
/// <param name="KeySize">Key size in bytes.</param>
/// <param name="ValueSize">Value size in bytes (per CPU for per-CPU maps).</param>
/// <param name="MaxEntries">Maximum number of entries.</param>
/// <param name="MapFlags">BPF_F_* creation flags.</param>
/// <param name="Name">Kernel map name (at most 15 bytes).</param>
public sealed record BpfMapInfo(BpfMapType Type, uint Id, uint KeySize, uint ValueSize, uint MaxEntries, uint MapFlags, string Name)
{
    /// <summary>Per-CPU maps return one value per possible CPU from lookups.</summary>
    public bool IsPerCpu => Type is BpfMapType.PercpuHash or BpfMapType.PercpuArray or BpfMapType.LruPercpuHash or BpfMapType.PercpuCgroupStorage;
}
