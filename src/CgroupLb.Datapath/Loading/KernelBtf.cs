namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Whether the running kernel exposes its BTF, which libbpf needs to load an object with kfunc calls or CO-RE
/// relocations. The project does not require it: without it the loader takes the object that needs neither.
/// </summary>
internal static class KernelBtf
{
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    public static bool Present => File.Exists(VmlinuxPath);
}
