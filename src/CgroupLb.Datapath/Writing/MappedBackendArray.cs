using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// A backend array (lb4_backends_v2 or lb6_backends_v2, <c>BPF_F_MMAPABLE</c>) mapped into this process: ids are written
/// and cleared as memory stores and read by scanning the mapping, with no syscall and no kernel allocation per backend.
/// No BPF program reads these arrays, so nothing orders the stores against the programs; the syscalls that write the
/// slots naming a new id come after them and are full barriers. Writes of distinct ids may come from several threads at
/// once (a parallel write step hands each thread its own ids). A reader in another process (status) may see a value
/// half written while an id is being created or freed, which no slot names at that moment.
/// </summary>
internal sealed class MappedBackendArray<TValue> : IDisposable where TValue : unmanaged
{
    // The kernel lays array values out at their size rounded up to 8 bytes.
    private static readonly int Stride = (Unsafe.SizeOf<TValue>() + 7) & ~7;

    private readonly BpfMappedMemory memory;
    private readonly uint maxEntries;

    private MappedBackendArray(BpfMappedMemory memory, uint maxEntries)
    {
        this.memory = memory;
        this.maxEntries = maxEntries;
    }

    /// <summary>The array mapped, or null when the kernel refuses (an array pinned without BPF_F_MMAPABLE).</summary>
    public static MappedBackendArray<TValue>? TryMap(BpfMapHandle map)
    {
        if (map.Info.Type != BpfMapType.Array || map.Info.ValueSize != Unsafe.SizeOf<TValue>())
            return null;
        try
        {
            return new MappedBackendArray<TValue>(map.MapShared(), map.Info.MaxEntries);
        }
        catch (BpfException)
        {
            return null;
        }
    }

    public void Write(ReadOnlySpan<uint> ids, ReadOnlySpan<TValue> values)
    {
        var bytes = memory.Bytes;
        for (int i = 0; i < ids.Length; i++)
            MemoryMarshal.Write(bytes.Slice(OffsetOf(ids[i]), Stride), in values[i]);
    }

    /// <summary>Frees ids: an all-zero value is a free id to every reader.</summary>
    public void Clear(ReadOnlySpan<uint> ids)
    {
        var bytes = memory.Bytes;
        foreach (uint id in ids)
            bytes.Slice(OffsetOf(id), Stride).Clear();
    }

    /// <summary>The ids in use (nonzero values) with their values, in id order; index 0 is never used.</summary>
    public List<KeyValuePair<uint, TValue>> ReadInUse()
    {
        var result = new List<KeyValuePair<uint, TValue>>();
        var values = memory.Bytes[..checked((int)(maxEntries * (uint)Stride))];
        int position = Stride;
        while (position < values.Length)
        {
            // A vectorised search skips the free ids (all zero) between two in use.
            int next = values[position..].IndexOfAnyExcept((byte)0);
            if (next < 0)
                break;
            int id = (position + next) / Stride;
            result.Add(new((uint)id, MemoryMarshal.Read<TValue>(values.Slice(id * Stride, Stride))));
            position = (id + 1) * Stride;
        }
        return result;
    }

    private int OffsetOf(uint id)
    {
        // Beyond the array: the kernel's own answer to such an update (E2BIG), so both paths fail alike.
        if (id >= maxEntries)
            throw new BpfException("backend array store", (int)Errno.E2BIG, "map", memory.MapName, $"backend id {id}, the array holds 1..{maxEntries - 1}");
        if (id == 0)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"backend id 0 means none; {memory.MapName} never holds it");
        return (int)id * Stride;
    }

    public void Dispose() => memory.Dispose();
}
