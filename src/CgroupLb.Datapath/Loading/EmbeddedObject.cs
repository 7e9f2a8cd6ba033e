namespace CgroupLb.Datapath.Loading;

/// <summary>The compiled BPF objects, embedded in this assembly by the build so a published folder is self-contained.</summary>
internal static class EmbeddedObject
{
    public const string ResourceName = "cgroup_lb.bpf.o";

    /// <summary>
    /// The same programs built for kernels with BTF and the bpf_rdonly_cast kfunc (6.2+): kfuncs and CO-RE relocations,
    /// which make libbpf refuse to load them without /sys/kernel/btf/vmlinux, and atomic instructions, which older
    /// verifiers refuse anywhere in an object. The loader takes this one where the kernel's BTF names the kfunc
    /// (<see cref="KernelBtf.HasRdonlyCast"/>).
    /// </summary>
    public const string KernelBtfResourceName = "cgroup_lb_btf.bpf.o";

    /// <summary>Whether the loader takes <see cref="KernelBtfResourceName"/> on this kernel.</summary>
    public static bool KernelBtfObjectSuits => KernelBtf.Present && KernelBtf.HasRdonlyCast;

    /// <summary>The socket-termination iterators (bpf/sock_terminate.bpf.c), a separate object so the main one loads without bpf_sock_destroy.</summary>
    public const string SockTerminateResourceName = "sock_terminate.bpf.o";

    public static byte[] Read() => Read(ResourceName);

    public static string ResourceFor(bool kernelBtfObject) => kernelBtfObject ? KernelBtfResourceName : ResourceName;

    public static byte[] Read(string resourceName)
    {
        using var stream = typeof(EmbeddedObject).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new DatapathException("open", $"the BPF object {resourceName} is not embedded in this build; rebuild with 'make'");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The embedded object that suits the kernel, unless <paramref name="overridePath"/> names a file.</summary>
    public static byte[] Load(string? overridePath, bool kernelBtfObject)
    {
        if (overridePath is null)
            return Read(ResourceFor(kernelBtfObject));
        try
        {
            return File.ReadAllBytes(overridePath);
        }
        catch (IOException ex)
        {
            throw new DatapathException("open", $"cannot read BPF object {overridePath}: {ex.Message}", ex);
        }
    }
}
