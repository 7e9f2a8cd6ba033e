using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// Owns a libbpf <c>struct ring_buffer *</c> (the consumer side of a BPF_MAP_TYPE_RINGBUF); released with
/// <c>ring_buffer__free</c>, which unmaps the ring and closes its epoll fd. It keeps the map's fd alive while it lives:
/// libbpf registers that fd with epoll and does not duplicate it.
/// </summary>
internal sealed class SafeRingBufferHandle : SafeHandle
{
    private readonly SafeHandle _mapFd;

    public SafeRingBufferHandle(nint ringBuffer, SafeHandle mapFd)
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
        bool added = false;
        mapFd.DangerousAddRef(ref added);
        _mapFd = mapFd;
        SetHandle(ringBuffer);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        Interop.Libbpf.RingBuffer_Free(handle);
        _mapFd.DangerousRelease();
        return true;
    }
}
