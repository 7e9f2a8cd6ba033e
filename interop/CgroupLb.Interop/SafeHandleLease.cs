using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// Keeps a SafeHandle from being released for the duration of a native call (DangerousAddRef/DangerousRelease),
/// so a child (program, map) used after, or concurrently with, its object's Dispose fails with
/// ObjectDisposedException instead of touching freed libbpf memory.
/// </summary>
internal readonly ref struct SafeHandleLease
{
    private readonly SafeHandle _handle;

    public SafeHandleLease(SafeHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
        Handle = handle.DangerousGetHandle();
    }

    /// <summary>The raw handle value, valid until this lease is disposed.</summary>
    public nint Handle { get; }

    /// <summary>The raw value as a file descriptor.</summary>
    public int Fd => (int)Handle;

    public void Dispose() => _handle.DangerousRelease();
}
