using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// Owns a <c>struct bpf_object *</c> and, for objects opened from memory, the native copy of the ELF image that
/// libbpf reads from until the object is closed. Released with <c>bpf_object__close</c>, which also closes the
/// object's program and map fds (kernel objects stay alive while pinned, attached through a link, or held by a dup).
/// </summary>
internal sealed class SafeBpfObjectHandle : SafeHandle
{
    private readonly unsafe void* _elfImage;

    public unsafe SafeBpfObjectHandle(nint bpfObject, void* elfImage = null)
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
        SetHandle(bpfObject);
        _elfImage = elfImage;
    }

    public override bool IsInvalid => handle == 0;

    protected override unsafe bool ReleaseHandle()
    {
        Interop.Libbpf.BpfObject_Close(handle);
        NativeMemory.Free(_elfImage);
        return true;
    }
}
