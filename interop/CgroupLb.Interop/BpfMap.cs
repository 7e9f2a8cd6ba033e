namespace CgroupLb.Interop;

/// <summary>
/// A map definition inside a <see cref="BpfObject"/> (<c>struct bpf_map *</c>). Borrowed like <see cref="BpfProgram"/>:
/// configure it before load (size, pin path, reuse of a pinned fd, .rodata contents), then take an owned fd with
/// <see cref="OpenHandle"/> to read and write it after load.
/// </summary>
public sealed class BpfMap
{
    private readonly nint _map;

    internal unsafe BpfMap(BpfObject owner, nint map)
    {
        Object = owner;
        _map = map;
        Name = BpfObject.Utf8(Interop.Libbpf.BpfMap_Name(map)) ?? string.Empty;
    }

    /// <summary>The object this map belongs to.</summary>
    public BpfObject Object { get; }

    /// <summary>The map name; libbpf names global-data maps "&lt;object prefix&gt;.rodata" and so on.</summary>
    public string Name { get; }

    /// <summary>Key size in bytes.</summary>
    public uint KeySize => Read(Interop.Libbpf.BpfMap_KeySize);

    /// <summary>Value size in bytes (per CPU, before 8-byte rounding, for per-CPU maps).</summary>
    public uint ValueSize => Read(Interop.Libbpf.BpfMap_ValueSize);

    /// <summary>Maximum number of entries.</summary>
    public uint MaxEntries => Read(Interop.Libbpf.BpfMap_MaxEntries);

    /// <summary>BPF_F_* creation flags.</summary>
    public uint MapFlags => Read(Interop.Libbpf.BpfMap_MapFlags);

    /// <summary>The map type.</summary>
    public BpfMapType Type => (BpfMapType)Read(m => (uint)Interop.Libbpf.BpfMap_Type(m));

    /// <summary>The pin path set by <see cref="SetPinPath"/> or by the map definition's pinning attribute, if any.</summary>
    public unsafe string? PinPath
    {
        get
        {
            using var lease = Lease();
            return BpfObject.Utf8(Interop.Libbpf.BpfMap_PinPath(_map));
        }
    }

    /// <summary>True when libbpf pinned the map (or reused a pin) during load.</summary>
    public bool IsPinned
    {
        get
        {
            using var lease = Lease();
            return Interop.Libbpf.BpfMap_IsPinned(_map);
        }
    }

    /// <summary>The map fd after load, borrowed from the object (closed with it); -1 before load.</summary>
    public int Fd
    {
        get
        {
            using var lease = Lease();
            var fd = Interop.Libbpf.BpfMap_Fd(_map);
            return fd < 0 ? -1 : fd;
        }
    }

    /// <summary>Sets the number of entries; only before load.</summary>
    public void SetMaxEntries(uint maxEntries)
    {
        using var lease = Lease();
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_SetMaxEntries(_map, maxEntries), "bpf_map__set_max_entries", "map", Name, $"max_entries {maxEntries}");
    }

    /// <summary>Replaces the BPF_F_* creation flags; only before load.</summary>
    public void SetMapFlags(uint flags)
    {
        using var lease = Lease();
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_SetMapFlags(_map, flags), "bpf_map__set_map_flags", "map", Name, $"flags 0x{flags:x}");
    }

    /// <summary>
    /// Changes the map's type, key and value sizes before load: a stand-in for a map type the kernel lacks (a ring
    /// buffer before 5.8 becomes a one-element array that no verified instruction uses).
    /// </summary>
    public void SetShape(BpfMapType type, uint keySize, uint valueSize, uint maxEntries)
    {
        using var lease = Lease();
        string shape = $"{type}, key {keySize} B, value {valueSize} B, {maxEntries} entries";
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_SetType(_map, (int)type), "bpf_map__set_type", "map", Name, shape);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_SetKeySize(_map, keySize), "bpf_map__set_key_size", "map", Name, shape);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_SetValueSize(_map, valueSize), "bpf_map__set_value_size", "map", Name, shape);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_SetMaxEntries(_map, maxEntries), "bpf_map__set_max_entries", "map", Name, shape);
    }

    /// <summary>
    /// Sets (or clears, with null) where load pins the map. If a compatible map is already pinned there, load reuses
    /// it instead of creating one; an incompatible pinned map makes load fail.
    /// </summary>
    public void SetPinPath(string? path)
    {
        using var lease = Lease();
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_SetPinPath(_map, path), "bpf_map__set_pin_path", "map", Name, path);
    }

    /// <summary>Pins the loaded map at <paramref name="path"/> (null: the pin path already set).</summary>
    public void Pin(string? path)
    {
        using var lease = Lease();
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_Pin(_map, path), "bpf_map__pin", "map", Name, path ?? PinPath);
    }

    /// <summary>Removes the pin at <paramref name="path"/> (null: the pin path already set).</summary>
    public void Unpin(string? path)
    {
        using var lease = Lease();
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_Unpin(_map, path), "bpf_map__unpin", "map", Name, path ?? PinPath);
    }

    /// <summary>
    /// Makes load use an existing kernel map instead of creating one (<c>bpf_map__reuse_fd</c>). libbpf duplicates the
    /// fd, so <paramref name="existing"/> stays owned by the caller. Only before load.
    /// </summary>
    public void ReuseFd(BpfMapHandle existing)
    {
        ArgumentNullException.ThrowIfNull(existing);
        using var lease = Lease();
        using var fd = new SafeHandleLease(existing.SafeHandle);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfMap_ReuseFd(_map, fd.Fd), "bpf_map__reuse_fd", "map", Name);
    }

    /// <summary>
    /// A copy of the initial contents of a global-data map (.data, .rodata, .bss); InvalidOperationException for
    /// other maps.
    /// </summary>
    public unsafe byte[] GetInitialValue()
    {
        using var lease = Lease();
        nuint size = 0;
        var data = Interop.Libbpf.BpfMap_InitialValue(_map, &size);
        if (data is null)
        {
            throw new InvalidOperationException($"map {Name} has no initial value: only global-data maps (.data, .rodata, .bss) have one");
        }

        return new ReadOnlySpan<byte>(data, checked((int)size)).ToArray();
    }

    /// <summary>
    /// Replaces the initial contents of a global-data map, e.g. the .rodata configuration read by the programs; only
    /// before load, and <paramref name="value"/> must be exactly <see cref="ValueSize"/> bytes.
    /// </summary>
    public unsafe void SetInitialValue(ReadOnlySpan<byte> value)
    {
        using var lease = Lease();
        fixed (byte* data = value)
        {
            BpfException.ThrowIfNegative(
                Interop.Libbpf.BpfMap_SetInitialValue(_map, data, (nuint)value.Length),
                "bpf_map__set_initial_value",
                "map",
                Name,
                $"{value.Length} bytes given, map value size is {ValueSize}");
        }
    }

    /// <summary>
    /// An owned duplicate of the loaded map's fd (F_DUPFD_CLOEXEC): it keeps the kernel map alive and usable after the
    /// object is disposed, and must itself be disposed.
    /// </summary>
    public BpfMapHandle OpenHandle()
    {
        using var lease = Lease();
        var fd = Interop.Libbpf.BpfMap_Fd(_map);
        if (fd < 0)
        {
            throw new InvalidOperationException($"map {Name} of object {Object.Name} has no fd: load the object first");
        }

        var duplicate = Interop.Libc.Fcntl(fd, Interop.Libc.F_DUPFD_CLOEXEC, 0);
        if (duplicate < 0)
        {
            throw new BpfException("fcntl(F_DUPFD_CLOEXEC)", System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), "map", Name);
        }

        return new BpfMapHandle(new SafeFileDescriptorHandle(duplicate), Name);
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private uint Read(Func<nint, uint> getter)
    {
        using var lease = Lease();
        return getter(_map);
    }

    private SafeHandleLease Lease() => new(Object.Handle);
}
