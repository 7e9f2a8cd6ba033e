using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// The values of a <c>BPF_F_MMAPABLE</c> array map, mapped shared into this process (<see cref="BpfMapHandle.MapShared"/>):
/// what the BPF programs read is this memory, so an atomic operation here is atomic for them too. The mapping holds
/// the map alive on its own; Dispose unmaps it.
/// </summary>
public sealed unsafe class BpfMappedMemory : IDisposable
{
    private readonly SafeMappedMemoryHandle _memory;

    internal BpfMappedMemory(SafeMappedMemoryHandle memory, string mapName)
    {
        _memory = memory;
        MapName = mapName;
    }

    /// <summary>The map's name, for messages.</summary>
    public string MapName { get; }

    /// <summary>Bytes mapped (whole pages).</summary>
    public int Length => (int)_memory.Length;

    /// <summary>
    /// The value of type <typeparamref name="T"/> at <paramref name="offset"/>, by reference into the shared mapping.
    /// Valid until Dispose; use <see cref="System.Threading.Interlocked"/> or <see cref="System.Threading.Volatile"/>
    /// on its fields, because the kernel reads and writes them concurrently.
    /// </summary>
    public ref T At<T>(int offset) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
        if (offset < 0 || offset + sizeof(T) > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{typeof(T).Name} at {offset} does not fit the {Length} bytes mapped of {MapName}");
        return ref *(T*)((byte*)_memory.DangerousGetHandle() + offset);
    }

    /// <summary>
    /// The mapped bytes, for a bulk read or write of many values (an array's value <c>i</c> is at <c>i</c> times its
    /// value size rounded up to 8). Valid until Dispose; nothing orders these accesses against the kernel's.
    /// </summary>
    public Span<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            return new Span<byte>((void*)_memory.DangerousGetHandle(), Length);
        }
    }

    /// <summary>Unmaps the memory; references from <see cref="At{T}"/> must not be used after.</summary>
    public void Dispose() => _memory.Dispose();
}
