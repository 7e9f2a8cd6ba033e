using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// What the kernel reports about a loaded program (<c>struct bpf_prog_info</c> via bpf_obj_get_info_by_fd).
/// </summary>
/// <param name="Id">Kernel program id.</param>
/// <param name="Tag">The kernel's hash of the program's instructions (hex, as bpftool prints it): equal tags mean the
/// same code, whatever the map fds it was loaded with.</param>
/// <param name="Name">Kernel program name (at most 15 bytes).</param>
/// <param name="MapIds">Ids of the maps the program uses.</param>
public sealed record BpfProgramInfo(uint Id, string Tag, string Name, IReadOnlyList<uint> MapIds)
{
    internal static unsafe BpfProgramInfo Read(int fd, string description)
    {
        var info = default(ProgInfoHead);
        var length = (uint)sizeof(ProgInfoHead);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjGetInfoByFd(fd, &info, &length), "bpf_obj_get_info_by_fd", "program", description);
        // A second call with a buffer for the map ids; the count is what the first call reported.
        var mapIds = new uint[info.NrMapIds];
        if (mapIds.Length > 0)
        {
            fixed (uint* ids = mapIds)
            {
                var withIds = default(ProgInfoHead);
                withIds.NrMapIds = (uint)mapIds.Length;
                withIds.MapIds = (ulong)ids;
                length = (uint)sizeof(ProgInfoHead);
                BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjGetInfoByFd(fd, &withIds, &length), "bpf_obj_get_info_by_fd", "program", description);
            }
        }

        var tag = Convert.ToHexStringLower(new ReadOnlySpan<byte>(info.Tag, 8));
        var name = Marshal.PtrToStringUTF8((nint)info.Name) ?? string.Empty;
        return new BpfProgramInfo(info.Id, tag, name, mapIds);
    }

    /// <summary>
    /// The leading fields of <c>struct bpf_prog_info</c> (linux/bpf.h UAPI, fixed since 4.15), up to and including
    /// name. Hand-written because the generator cannot mirror the bit-field that follows (gpl_compatible); the
    /// kernel fills at most info_len bytes, so a prefix is a valid request.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 80)]
    private unsafe struct ProgInfoHead
    {
        [FieldOffset(0)] public uint Type;
        [FieldOffset(4)] public uint Id;
        [FieldOffset(8)] public fixed byte Tag[8];
        [FieldOffset(52)] public uint NrMapIds;
        [FieldOffset(56)] public ulong MapIds;
        [FieldOffset(64)] public fixed byte Name[16];
    }
}
