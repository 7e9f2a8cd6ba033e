using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// An opened BPF ELF object (<c>struct bpf_object</c>): configure maps and programs, then <see cref="Load"/>.
/// </summary>
/// <remarks>
/// Ownership: the caller owns the object and must Dispose it (<c>bpf_object__close</c>). Its <see cref="BpfProgram"/>s
/// and <see cref="BpfMap"/>s are borrowed views that fail with ObjectDisposedException afterwards. What must outlive
/// the object is taken out explicitly: <see cref="BpfProgram.AttachCgroup"/> returns an owned <see cref="BpfLink"/>,
/// and <see cref="BpfMap.OpenHandle"/> returns an owned, duplicated map fd.
/// </remarks>
public sealed class BpfObject : IDisposable
{
    private readonly SafeBpfObjectHandle _handle;
    /// <summary>libbpf keeps object names in a char[BPF_OBJ_NAME_LEN] (16 bytes with the terminator).</summary>
    public const int MaxObjectNameLength = 15;

    private IReadOnlyList<BpfProgram>? _programs;
    private IReadOnlyList<BpfMap>? _maps;

    private unsafe BpfObject(SafeBpfObjectHandle handle)
    {
        _handle = handle;
        using var lease = new SafeHandleLease(handle);
        Name = Utf8(Interop.Libbpf.BpfObject_Name(lease.Handle)) ?? string.Empty;
    }

    /// <summary>
    /// The object name: for a file, its base name up to the first '.', truncated to 15 bytes; for memory, the name
    /// given to <see cref="OpenMemory"/>.
    /// </summary>
    public string Name { get; }

    /// <summary>True once <see cref="Load"/> succeeded.</summary>
    public bool IsLoaded { get; private set; }

    /// <summary>The object's programs in ELF order.</summary>
    public IReadOnlyList<BpfProgram> Programs => _programs ??= EnumeratePrograms();

    /// <summary>The object's maps in ELF order, including .data/.rodata/.bss/.kconfig maps.</summary>
    public IReadOnlyList<BpfMap> Maps => _maps ??= EnumerateMaps();

    internal SafeBpfObjectHandle Handle => _handle;

    /// <summary>Opens a BPF ELF file (<c>bpf_object__open_file</c>); nothing is loaded into the kernel yet.</summary>
    public static unsafe BpfObject OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        LibbpfVersion.EnsureSupported();
        var pointer = Interop.Libbpf.BpfObject_OpenFile(path, null);
        return new BpfObject(new SafeBpfObjectHandle(BpfException.ThrowIfNull(pointer, "bpf_object__open_file", "file", path)));
    }

    /// <summary>
    /// Opens a BPF ELF image held in memory (<c>bpf_object__open_mem</c>), e.g. an embedded resource. The image is
    /// copied to native memory owned by the object, because libbpf reads from the buffer until the object is closed.
    /// </summary>
    public static unsafe BpfObject OpenMemory(ReadOnlySpan<byte> elf, string objectName)
    {
        ArgumentException.ThrowIfNullOrEmpty(objectName);
        LibbpfVersion.EnsureSupported();
        if (System.Text.Encoding.UTF8.GetByteCount(objectName) > MaxObjectNameLength)
        {
            throw new ArgumentException(
                $"BPF object name '{objectName}' is longer than {MaxObjectNameLength} bytes, which libbpf would silently truncate",
                nameof(objectName));
        }

        if (elf.IsEmpty)
        {
            throw new ArgumentException($"BPF object {objectName}: the ELF image is empty", nameof(elf));
        }

        var image = NativeMemory.Alloc((nuint)elf.Length);
        elf.CopyTo(new Span<byte>(image, elf.Length));
        var name = Marshal.StringToCoTaskMemUTF8(objectName);
        try
        {
            var options = new Interop.Libbpf.BpfObjectOpenOpts
            {
                Sz = (nuint)sizeof(Interop.Libbpf.BpfObjectOpenOpts),
                ObjectName = (byte*)name,
            };
            var pointer = Interop.Libbpf.BpfObject_OpenMem(image, (nuint)elf.Length, &options);
            if (pointer == 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                NativeMemory.Free(image);
                throw new BpfException("bpf_object__open_mem", errno, "object", objectName);
            }

            return new BpfObject(new SafeBpfObjectHandle(pointer, image));
        }
        finally
        {
            Marshal.FreeCoTaskMem(name); // libbpf keeps its own copy of the name
        }
    }

    /// <summary>
    /// Creates maps (or reuses pinned ones whose pin path is set), relocates and loads every autoload program
    /// (<c>bpf_object__load</c>). The verifier log of a rejected program goes to the logger installed with
    /// <see cref="LibbpfLog.Install"/>. After a failure the object can only be disposed.
    /// </summary>
    public void Load()
    {
        using var lease = new SafeHandleLease(_handle);
        var result = Interop.Libbpf.BpfObject_Load(lease.Handle);
        BpfException.ThrowIfNegative(result, "bpf_object__load", "object", Name, "the verifier log, if any, went to the libbpf logger");
        IsLoaded = true;
    }

    /// <summary>The program called <paramref name="name"/> (the C function name); KeyNotFoundException if absent.</summary>
    public BpfProgram GetProgram(string name) =>
        Programs.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"BPF object {Name} has no program named '{name}' (it has: {string.Join(", ", Programs.Select(p => p.Name))})");

    /// <summary>The map called <paramref name="name"/>; KeyNotFoundException if absent.</summary>
    public BpfMap GetMap(string name) =>
        Maps.FirstOrDefault(m => m.Name == name)
        ?? throw new KeyNotFoundException($"BPF object {Name} has no map named '{name}' (it has: {string.Join(", ", Maps.Select(m => m.Name))})");

    /// <summary>Closes the object and every program and map fd it owns (<c>bpf_object__close</c>).</summary>
    public void Dispose() => _handle.Dispose();

    internal static unsafe string? Utf8(byte* text) => text is null ? null : Marshal.PtrToStringUTF8((nint)text);

    private List<BpfProgram> EnumeratePrograms()
    {
        using var lease = new SafeHandleLease(_handle);
        var programs = new List<BpfProgram>();
        for (var program = Interop.Libbpf.BpfObject_NextProgram(lease.Handle, 0); program != 0; program = Interop.Libbpf.BpfObject_NextProgram(lease.Handle, program))
        {
            programs.Add(new BpfProgram(this, program));
        }

        return programs;
    }

    private List<BpfMap> EnumerateMaps()
    {
        using var lease = new SafeHandleLease(_handle);
        var maps = new List<BpfMap>();
        for (var map = Interop.Libbpf.BpfObject_NextMap(lease.Handle, 0); map != 0; map = Interop.Libbpf.BpfObject_NextMap(lease.Handle, map))
        {
            maps.Add(new BpfMap(this, map));
        }

        return maps;
    }
}
