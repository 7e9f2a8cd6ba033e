using System.Buffers.Binary;
using System.Text;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// What the running kernel's BTF offers. libbpf needs that BTF to load an object with kfunc calls or CO-RE relocations;
/// the project does not require it: without it, or without the bpf_rdonly_cast kfunc in it (before 6.2), the loader
/// takes the object that needs neither.
/// </summary>
internal static class KernelBtf
{
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    /// <summary>The kfunc <see cref="EmbeddedObject.KernelBtfResourceName"/> is built around (Linux 6.2+).</summary>
    public const string RdonlyCastKfunc = "bpf_rdonly_cast";

    private static readonly Lazy<bool> HasRdonlyCastLazy = new(() => NamesString(VmlinuxPath, RdonlyCastKfunc));

    public static bool Present => File.Exists(VmlinuxPath);

    /// <summary>
    /// Whether the kernel's BTF names <see cref="RdonlyCastKfunc"/>: the kernels (6.2+) that can load
    /// <see cref="EmbeddedObject.KernelBtfResourceName"/>, whose atomic instructions and kfunc an older verifier refuses
    /// anywhere in an object. Read once; false when the BTF is missing or unreadable.
    /// </summary>
    public static bool HasRdonlyCast => HasRdonlyCastLazy.Value;

    /// <summary>Whether the string section of the BTF file at <paramref name="path"/> holds <paramref name="name"/>.</summary>
    internal static bool NamesString(string path, string name)
    {
        byte[] btf;
        try
        {
            btf = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        return ContainsString(StringSection(btf), name);
    }

    /// <summary>
    /// The string section of a BTF blob (struct btf_header: magic 0xeb9f, version, flags, hdr_len, type_off, type_len,
    /// str_off, str_len); empty when the header does not describe one inside the blob. Native byte order, as the
    /// kernel writes it.
    /// </summary>
    internal static ReadOnlySpan<byte> StringSection(ReadOnlySpan<byte> btf)
    {
        if (btf.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(btf) != 0xeb9f)
            return [];
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[4..]);
        uint stringOffset = BinaryPrimitives.ReadUInt32LittleEndian(btf[16..]);
        uint stringLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[20..]);
        ulong start = (ulong)headerLength + stringOffset;
        if (start + stringLength > (ulong)btf.Length)
            return [];
        return btf.Slice((int)start, (int)stringLength);
    }

    /// <summary>Whether <paramref name="name"/> is one of the NUL-terminated strings of <paramref name="strings"/>.</summary>
    internal static bool ContainsString(ReadOnlySpan<byte> strings, string name)
    {
        byte[] needle = Encoding.ASCII.GetBytes("\0" + name + "\0");
        return strings.IndexOf(needle) >= 0;
    }
}
