using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// Owns a <c>struct bpf_link *</c>; released with <c>bpf_link__destroy</c>, which detaches the program unless the
/// link was disconnected, and closes the link fd (which for a kernel bpf_link detaches unless it is pinned).
/// A link does not reference its bpf_object: the kernel link holds the program, so it may outlive the object.
/// </summary>
internal sealed class SafeBpfLinkHandle : SafeHandle
{
    public SafeBpfLinkHandle(nint link)
        : base(invalidHandleValue: 0, ownsHandle: true) => SetHandle(link);

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        // A detach failure cannot be reported from here and the memory and fd are freed regardless.
        Interop.Libbpf.BpfLink_Destroy(handle);
        return true;
    }
}
