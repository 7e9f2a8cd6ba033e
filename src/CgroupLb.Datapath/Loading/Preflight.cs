using CgroupLb.Interop;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Checks done before touching the kernel, each failing with one line that says what to do. They turn the errno soup
/// of a failed bpf() call into the cause an operator can fix.
/// </summary>
internal static class Preflight
{
    public static void CheckPrivileges()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new DatapathException("preflight", "cgroup-lb needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN) to load and attach BPF programs; run it with sudo");
    }

    public static void CheckAttach(DatapathOptions options)
    {
        CheckPrivileges();
        CheckLibbpf();
        if (!Directory.Exists(options.CgroupPath))
            throw new DatapathException("preflight", $"cgroup {options.CgroupPath} does not exist; pass an existing cgroup v2 directory with --cgroup");
        if (MountTable.FileSystemTypeOf(options.CgroupPath) != "cgroup2")
            throw new DatapathException("preflight", $"{options.CgroupPath} is not on a cgroup v2 filesystem; mount one (mount -t cgroup2 none /sys/fs/cgroup/unified) and pass a directory in it");
        CheckBpffs(options.BpffsPath);
    }

    public static void CheckPinnedState(DatapathOptions options)
    {
        CheckPrivileges();
        CheckLibbpf();
        CheckBpffs(options.BpffsPath);
        if (!Directory.Exists(options.BpffsPath))
            throw new DatapathException("preflight", $"nothing is pinned at {options.BpffsPath}: the agent has not run with this --bpffs, or it was detached");
    }

    public static void CheckBpffs(string bpffsPath)
    {
        string? existing = bpffsPath;
        while (existing is not null && !Directory.Exists(existing))
            existing = Path.GetDirectoryName(existing);
        if (existing is null || MountTable.FileSystemTypeOf(existing) != "bpf")
            throw new DatapathException("preflight", $"{bpffsPath} is not on a BPF filesystem; mount it with 'mount -t bpf bpf /sys/fs/bpf'");
    }

    private static void CheckLibbpf()
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libbpf.so.1", out var handle))
            throw new DatapathException("preflight", "libbpf.so.1 is not installed; install it with 'apt-get install libbpf1' (Debian/Ubuntu)");
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        if (LibbpfVersion.Incompatibility(LibbpfVersion.Loaded, LibbpfVersion.Required) is { } problem)
            throw new DatapathException("preflight", problem);
    }
}
