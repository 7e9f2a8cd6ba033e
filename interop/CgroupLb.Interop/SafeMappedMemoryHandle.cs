using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>Owns a shared <c>mmap(2)</c> of a BPF map; released with <c>munmap</c>.</summary>
internal sealed class SafeMappedMemoryHandle : SafeHandle
{
    public SafeMappedMemoryHandle(nint address, nuint length)
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
        Length = length;
        SetHandle(address);
    }

    public nuint Length { get; }

    public override bool IsInvalid => handle == 0 || handle == Interop.Libc.MAP_FAILED;

    protected override unsafe bool ReleaseHandle() => Interop.Libc.Munmap((void*)handle, Length) == 0;
}
