using CgroupLb.Datapath.Loading;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>What the map writer benchmarks need from the machine, checked before any of them is scheduled.</summary>
internal static class KernelRequirement
{
    public const string BpffsRoot = "/sys/fs/bpf";

    /// <summary>Why the kernel benchmarks cannot run here, or null when they can.</summary>
    public static string? MissingReason()
    {
        if (!OperatingSystem.IsLinux()) return "they need Linux";
        if (!Environment.IsPrivilegedProcess) return "they need root to create and pin BPF maps (run with sudo)";
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libbpf.so.1", out nint libbpf))
            return "libbpf.so.1 is not installed (apt-get install libbpf1)";
        System.Runtime.InteropServices.NativeLibrary.Free(libbpf);
        if (!Directory.Exists(BpffsRoot) || MountTable.FileSystemTypeOf(BpffsRoot) != "bpf")
            return $"{BpffsRoot} is not a mounted BPF filesystem (mount -t bpf bpf {BpffsRoot})";
        return null;
    }

    /// <summary>Throws with the reason; for benchmark setups, so a forced run fails with a message, not an errno.</summary>
    public static void Demand(string benchmark)
    {
        if (MissingReason() is { } reason)
            throw new InvalidOperationException($"{benchmark} cannot run: {reason}");
    }
}
