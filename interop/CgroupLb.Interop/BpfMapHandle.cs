using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// An owned fd of a kernel BPF map, independent of any <see cref="BpfObject"/>: from <see cref="BpfMap.OpenHandle"/>
/// (a dup), <see cref="OpenPinned"/> or <see cref="Create"/>. Dispose closes the fd; the map itself lives on while
/// pinned or referenced by loaded programs. Element operations are thread-safe (each is one bpf() syscall).
/// </summary>
public sealed class BpfMapHandle : IDisposable
{
    private static readonly Lazy<int> PossibleCpuCount = new(() =>
        BpfException.ThrowIfNegative(Interop.Libbpf.LibbpfNumPossibleCpus(), "libbpf_num_possible_cpus"));

    private readonly SafeFileDescriptorHandle _fd;

    internal BpfMapHandle(SafeFileDescriptorHandle fd, string? name)
    {
        _fd = fd;
        try
        {
            Info = QueryInfo(fd, name);
        }
        catch
        {
            fd.Dispose();
            throw;
        }

        Name = name ?? Info.Name;
    }

    /// <summary>libbpf_num_possible_cpus(): the number of values a per-CPU lookup returns.</summary>
    public static int PossibleCpus => PossibleCpuCount.Value;

    /// <summary>Kernel facts about the map, read once when the handle is opened (they never change).</summary>
    public BpfMapInfo Info { get; }

    /// <summary>The name used in messages: libbpf's map name when known, else the kernel's (truncated) name.</summary>
    public string Name { get; }

    /// <summary>The raw fd, borrowed: valid only while this handle is not disposed.</summary>
    public int Fd => (int)_fd.DangerousGetHandle();

    internal SafeHandle SafeHandle => _fd;

    /// <summary>Opens a map pinned in bpffs (<c>bpf_obj_get</c>). Fails with EINVAL-like errors if the pin is not a map.</summary>
    public static BpfMapHandle OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjGet(path), "bpf_obj_get", "path", path);
        return new BpfMapHandle(new SafeFileDescriptorHandle(fd), name: null);
    }

    /// <summary>
    /// Opens a map by kernel id (<c>bpf_map_get_fd_by_id</c>, needs CAP_SYS_ADMIN): a map only a program holds, such as
    /// a loaded program's .rodata, found through <see cref="BpfProgramInfo.MapIds"/>.
    /// </summary>
    public static BpfMapHandle FromId(uint id)
    {
        var fd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfMapGetFdById(id), "bpf_map_get_fd_by_id", "map", $"id {id}");
        return new BpfMapHandle(new SafeFileDescriptorHandle(fd), name: null);
    }

    /// <summary>Creates a standalone map (<c>bpf_map_create</c>); the name is truncated by the kernel to 15 bytes.</summary>
    public static unsafe BpfMapHandle Create(BpfMapType type, string name, uint keySize, uint valueSize, uint maxEntries, uint mapFlags = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var options = new Interop.Libbpf.BpfMapCreateOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfMapCreateOpts), MapFlags = mapFlags };
        var fd = Interop.Libbpf.BpfMapCreate((int)type, name, keySize, valueSize, maxEntries, &options);
        BpfException.ThrowIfNegative(fd, "bpf_map_create", "map", name, $"{type}, key {keySize} B, value {valueSize} B, {maxEntries} entries, flags 0x{mapFlags:x}");
        return new BpfMapHandle(new SafeFileDescriptorHandle(fd), name);
    }

    /// <summary>Pins the map in bpffs (<c>bpf_obj_pin</c>).</summary>
    public void Pin(string path)
    {
        using var fd = new SafeHandleLease(_fd);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjPin(fd.Fd, path), "bpf_obj_pin", "map", Name, $"path {path}");
    }

    /// <summary>
    /// Maps the values of an array map created with <c>BPF_F_MMAPABLE</c> (Linux 5.5+) shared into this process, whole
    /// pages from value 0 on. Throws naming the map when the kernel refuses (not mmapable, no such support).
    /// </summary>
    public unsafe BpfMappedMemory MapShared()
    {
        nuint pageSize = (nuint)Environment.SystemPageSize;
        nuint bytes = (nuint)Info.MaxEntries * (((nuint)Info.ValueSize + 7) & ~(nuint)7);
        nuint length = (bytes + pageSize - 1) / pageSize * pageSize;
        using var fd = new SafeHandleLease(_fd);
        void* address = Interop.Libc.Mmap(null, length, Interop.Libc.PROT_READ | Interop.Libc.PROT_WRITE, Interop.Libc.MAP_SHARED, fd.Fd, 0);
        if ((nint)address == Interop.Libc.MAP_FAILED)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new BpfException("mmap", errno, "map", Name, "an array map created with BPF_F_MMAPABLE (Linux 5.5+) can be mapped");
        }
        return new BpfMappedMemory(new SafeMappedMemoryHandle((nint)address, length), Name);
    }

    /// <summary>Reads the value for <paramref name="key"/> into <paramref name="value"/>; false if the key is absent.</summary>
    public unsafe bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key.Length);
        CheckValue(value.Length);
        using var fd = new SafeHandleLease(_fd);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            return Found(Interop.Libbpf.BpfMapLookupElem(fd.Fd, k, v), "bpf_map_lookup_elem");
        }
    }

    /// <summary>Writes one element; BpfException with EEXIST/ENOENT when <paramref name="flags"/> forbids the write, E2BIG when full.</summary>
    public unsafe void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, BpfUpdateFlags flags)
    {
        CheckKey(key.Length);
        CheckValue(value.Length);
        using var fd = new SafeHandleLease(_fd);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            BpfException.ThrowIfNegative(Interop.Libbpf.BpfMapUpdateElem(fd.Fd, k, v, (ulong)flags), "bpf_map_update_elem", "map", Name);
        }
    }

    /// <summary>Deletes one element; false if it was absent.</summary>
    public unsafe bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key.Length);
        using var fd = new SafeHandleLease(_fd);
        fixed (byte* k = key)
        {
            return Found(Interop.Libbpf.BpfMapDeleteElem(fd.Fd, k), "bpf_map_delete_elem");
        }
    }

    /// <summary>
    /// Writes the key following <paramref name="key"/> (or the first key when <paramref name="key"/> is empty) into
    /// <paramref name="next"/>; false at the end. For hash maps a key that was deleted meanwhile restarts the walk.
    /// </summary>
    public unsafe bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        if (!key.IsEmpty)
        {
            CheckKey(key.Length);
        }

        CheckKey(next.Length);
        using var fd = new SafeHandleLease(_fd);
        fixed (byte* k = key)
        fixed (byte* n = next)
        {
            return Found(Interop.Libbpf.BpfMapGetNextKey(fd.Fd, key.IsEmpty ? null : k, n), "bpf_map_get_next_key");
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> packed keys and values in one syscall (<c>bpf_map_update_batch</c>, kernel 5.6+)
    /// and returns how many were written. On error throws, saying how many elements were written before it.
    /// </summary>
    public unsafe int UpdateBatch(ReadOnlySpan<byte> keys, ReadOnlySpan<byte> values, int count, BpfUpdateFlags flags)
    {
        CheckBatch(keys.Length, Info.KeySize, count, nameof(keys));
        CheckBatch(values.Length, ValueStride, count, nameof(values));
        if (count == 0)
        {
            return 0;
        }

        var options = new Interop.Libbpf.BpfMapBatchOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfMapBatchOpts), ElemFlags = (ulong)flags };
        var processed = (uint)count;
        using var fd = new SafeHandleLease(_fd);
        fixed (byte* k = keys)
        fixed (byte* v = values)
        {
            var result = Interop.Libbpf.BpfMapUpdateBatch(fd.Fd, k, v, &processed, &options);
            BpfException.ThrowIfNegative(result, "bpf_map_update_batch", "map", Name, $"{processed} of {count} elements written");
        }

        return (int)processed;
    }

    /// <summary>
    /// Deletes <paramref name="count"/> packed keys in one syscall (<c>bpf_map_delete_batch</c>) and returns how many
    /// were deleted. A missing key stops the batch with ENOENT; the exception says how many were deleted before it.
    /// </summary>
    public unsafe int DeleteBatch(ReadOnlySpan<byte> keys, int count)
    {
        CheckBatch(keys.Length, Info.KeySize, count, nameof(keys));
        if (count == 0)
        {
            return 0;
        }

        var options = new Interop.Libbpf.BpfMapBatchOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfMapBatchOpts) };
        var processed = (uint)count;
        using var fd = new SafeHandleLease(_fd);
        fixed (byte* k = keys)
        {
            var result = Interop.Libbpf.BpfMapDeleteBatch(fd.Fd, k, &processed, &options);
            BpfException.ThrowIfNegative(result, "bpf_map_delete_batch", "map", Name, $"{processed} of {count} elements deleted");
        }

        return (int)processed;
    }

    /// <summary>
    /// Reads up to <paramref name="count"/> elements starting after the opaque <paramref name="cursor"/> (null: from the
    /// start) and returns how many were read; <paramref name="cursor"/> is advanced, and becomes null at the end.
    /// The cursor has the size of a key (hash maps use a bucket index, so it is not necessarily a key).
    /// </summary>
    public unsafe int LookupBatch(ref byte[]? cursor, Span<byte> keys, Span<byte> values, int count)
    {
        CheckBatch(keys.Length, Info.KeySize, count, nameof(keys));
        CheckBatch(values.Length, ValueStride, count, nameof(values));
        var outBatch = new byte[Math.Max(Info.KeySize, 8)];
        var options = new Interop.Libbpf.BpfMapBatchOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfMapBatchOpts) };
        var processed = (uint)count;
        using var fd = new SafeHandleLease(_fd);
        fixed (byte* inBatch = cursor)
        fixed (byte* o = outBatch)
        fixed (byte* k = keys)
        fixed (byte* v = values)
        {
            var result = Interop.Libbpf.BpfMapLookupBatch(fd.Fd, cursor is null ? null : inBatch, o, k, v, &processed, &options);
            if (result == -(int)Errno.ENOENT)
            {
                cursor = null; // the walk reached the end; "processed" holds the final partial batch
                return (int)processed;
            }

            BpfException.ThrowIfNegative(result, "bpf_map_lookup_batch", "map", Name, $"{processed} elements read");
        }

        cursor = outBatch;
        return (int)processed;
    }

    /// <summary>Typed <see cref="TryLookup(ReadOnlySpan{byte}, Span{byte})"/>; the struct sizes must match the map's.</summary>
    public bool TryLookup<TKey, TValue>(in TKey key, out TValue value)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        value = default;
        return TryLookup(AsBytes(in key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)));
    }

    /// <summary>Typed <see cref="Update(ReadOnlySpan{byte}, ReadOnlySpan{byte}, BpfUpdateFlags)"/>.</summary>
    public void Update<TKey, TValue>(in TKey key, in TValue value, BpfUpdateFlags flags)
        where TKey : unmanaged
        where TValue : unmanaged => Update(AsBytes(in key), AsBytes(in value), flags);

    /// <summary>Typed <see cref="Delete(ReadOnlySpan{byte})"/>.</summary>
    public bool Delete<TKey>(in TKey key)
        where TKey : unmanaged => Delete(AsBytes(in key));

    /// <summary>
    /// Walks the keys with bpf_map_get_next_key. Not a snapshot: concurrent writes may be seen or missed, and a
    /// hash-map walk restarts if the current key is deleted under it.
    /// </summary>
    public IEnumerable<TKey> Keys<TKey>()
        where TKey : unmanaged
    {
        CheckKey(Unsafe.SizeOf<TKey>());
        var current = default(TKey);
        var hasCurrent = false;
        while (true)
        {
            var next = default(TKey);
            var found = hasCurrent
                ? TryGetNextKey(AsBytes(in current), MemoryMarshal.AsBytes(new Span<TKey>(ref next)))
                : TryGetNextKey(ReadOnlySpan<byte>.Empty, MemoryMarshal.AsBytes(new Span<TKey>(ref next)));
            if (!found)
            {
                yield break;
            }

            yield return next;
            current = next;
            hasCurrent = true;
        }
    }

    /// <summary>
    /// Reads a per-CPU map element: one <typeparamref name="TValue"/> per possible CPU into <paramref name="perCpu"/>
    /// (at least <see cref="PossibleCpus"/> long). The kernel stores each CPU's value rounded up to 8 bytes.
    /// </summary>
    public bool TryLookupPerCpu<TKey, TValue>(in TKey key, Span<TValue> perCpu)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        if (!Info.IsPerCpu)
        {
            throw new InvalidOperationException($"map {Name} is a {Info.Type} map, not a per-CPU map");
        }

        if (Unsafe.SizeOf<TValue>() != Info.ValueSize)
        {
            throw new ArgumentException($"map {Name}: value type {typeof(TValue).Name} is {Unsafe.SizeOf<TValue>()} bytes, the map's value size is {Info.ValueSize}");
        }

        if (perCpu.Length < PossibleCpus)
        {
            throw new ArgumentException($"map {Name}: per-CPU buffer holds {perCpu.Length} values, {PossibleCpus} CPUs are possible", nameof(perCpu));
        }

        var stride = RoundUp8(Info.ValueSize);
        var buffer = new byte[stride * PossibleCpus];
        if (!TryLookup(AsBytes(in key), buffer))
        {
            return false;
        }

        for (var cpu = 0; cpu < PossibleCpus; cpu++)
        {
            perCpu[cpu] = MemoryMarshal.Read<TValue>(buffer.AsSpan(cpu * stride, (int)Info.ValueSize));
        }

        return true;
    }

    /// <summary>Closes the fd.</summary>
    public void Dispose() => _fd.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Info.Type}, id {Info.Id})";

    private int ValueStride => Info.IsPerCpu ? RoundUp8(Info.ValueSize) * PossibleCpus : (int)Info.ValueSize;

    private static int RoundUp8(uint size) => (int)((size + 7) & ~7u);

    private static ReadOnlySpan<byte> AsBytes<T>(in T value)
        where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));

    private static unsafe BpfMapInfo QueryInfo(SafeFileDescriptorHandle fd, string? name)
    {
        var info = default(Interop.Libbpf.BpfMapInfoNative);
        var length = (uint)sizeof(Interop.Libbpf.BpfMapInfoNative);
        using var lease = new SafeHandleLease(fd);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjGetInfoByFd(lease.Fd, &info, &length), "bpf_obj_get_info_by_fd", "map", name ?? $"fd {lease.Fd}");
        var kernelName = Marshal.PtrToStringUTF8((nint)info.Name) ?? string.Empty;
        return new BpfMapInfo((BpfMapType)info.Type, info.Id, info.KeySize, info.ValueSize, info.MaxEntries, info.MapFlags, kernelName);
    }

    // libbpf returns -ENOENT for "no such element" and "no next key"; anything else is a real failure.
    private bool Found(int result, string operation)
    {
        if (result == -(int)Errno.ENOENT)
        {
            return false;
        }

        BpfException.ThrowIfNegative(result, operation, "map", Name);
        return true;
    }

    private void CheckKey(int length)
    {
        if (length != Info.KeySize)
        {
            throw new ArgumentException($"map {Name}: key is {length} bytes, the map's key size is {Info.KeySize}");
        }
    }

    private void CheckValue(int length)
    {
        if (length != ValueStride)
        {
            var expected = Info.IsPerCpu ? $"{PossibleCpus} CPUs x {RoundUp8(Info.ValueSize)} bytes = {ValueStride}" : $"{ValueStride}";
            throw new ArgumentException($"map {Name}: value is {length} bytes, the map needs {expected}");
        }
    }

    private void CheckBatch(int length, long elementSize, int count, string parameter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (length < elementSize * count)
        {
            throw new ArgumentException($"map {Name}: {parameter} holds {length} bytes, {count} elements need {elementSize * count}", parameter);
        }
    }
}
