using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// Reads the records of a BPF ring buffer map (<c>ring_buffer__new</c>, <c>ring_buffer__poll</c>). Each record is
/// handed to the callback given at creation, on the thread that polls, as a span that is valid only during the call
/// (it points into the kernel's ring, which libbpf releases when the callback returns). One poller at a time.
/// </summary>
public sealed unsafe class BpfRingBuffer : IDisposable
{
    /// <summary>Receives one record; valid only during the call.</summary>
    public delegate void RecordHandler(ReadOnlySpan<byte> record);

    private readonly SafeRingBufferHandle _ring;
    private readonly RecordHandler _onRecord;
    private GCHandle _self;
    private Exception? _callbackFailure;

    private BpfRingBuffer(BpfMapHandle map, RecordHandler onRecord)
    {
        _onRecord = onRecord;
        MapName = map.Name;
        _self = GCHandle.Alloc(this);
        try
        {
            using var fd = new SafeHandleLease(map.SafeHandle);
            nint ring = Interop.Libbpf.RingBuffer_New(fd.Fd, &OnSample, (void*)GCHandle.ToIntPtr(_self), 0);
            BpfException.ThrowIfNull(ring, "ring_buffer__new", "map", map.Name);
            _ring = new SafeRingBufferHandle(ring, map.SafeHandle);
        }
        catch
        {
            _self.Free();
            throw;
        }
    }

    /// <summary>The ring buffer map's name, for messages.</summary>
    public string MapName { get; }

    /// <summary>
    /// Opens the consumer side of <paramref name="map"/>, which must be a BPF_MAP_TYPE_RINGBUF (EINVAL otherwise). The
    /// map handle must outlive this object only as a .NET object: the ring takes its own reference on the fd.
    /// </summary>
    public static BpfRingBuffer Open(BpfMapHandle map, RecordHandler onRecord)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(onRecord);
        return new BpfRingBuffer(map, onRecord);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for records and hands every available one to the callback. Returns how
    /// many were read (0 on timeout). An exception thrown by the callback stops the poll and is rethrown here. EINTR
    /// (a signal while waiting) reads as 0.
    /// </summary>
    public int Poll(TimeSpan timeout)
    {
        int milliseconds = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        using var ring = new SafeHandleLease(_ring);
        int result = Interop.Libbpf.RingBuffer_Poll(ring.Handle, milliseconds);
        return Finish(result, "ring_buffer__poll");
    }

    /// <summary>Hands every record available now to the callback without waiting (<c>ring_buffer__consume</c>).</summary>
    public int Consume()
    {
        using var ring = new SafeHandleLease(_ring);
        return Finish(Interop.Libbpf.RingBuffer_Consume(ring.Handle), "ring_buffer__consume");
    }

    private int Finish(int result, string operation)
    {
        if (_callbackFailure is { } failure)
        {
            _callbackFailure = null;
            throw new InvalidOperationException($"reading ring buffer {MapName}: the record handler failed: {failure.Message}", failure);
        }
        if (result == -(int)Errno.EINTR)
            return 0;
        return BpfException.ThrowIfNegative(result, operation, "map", MapName);
    }

    // libbpf calls this for each record; an exception must not unwind through native frames, so it is kept and
    // rethrown by the poll, and the nonzero return stops libbpf from reading on.
    [UnmanagedCallersOnly]
    private static int OnSample(void* context, void* data, nuint size)
    {
        var self = (BpfRingBuffer)GCHandle.FromIntPtr((nint)context).Target!;
        try
        {
            self._onRecord(new ReadOnlySpan<byte>(data, checked((int)size)));
            return 0;
        }
        catch (Exception ex)
        {
            self._callbackFailure = ex;
            return -1;
        }
    }

    /// <summary>Frees the consumer (unmaps the ring); call from the polling thread, or after polling stopped.</summary>
    public void Dispose()
    {
        _ring.Dispose();
        if (_self.IsAllocated)
            _self.Free();
    }
}
