using System.Runtime.InteropServices;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Lists the programs on a cgroup's sock_addr hooks with BPF_PROG_QUERY, for kernels where bpftool 7.1's
/// `cgroup show` fails: it sends the prog_attach_flags field that only 6.0 and newer accept, so on 5.10 every query
/// is refused with EINVAL and nothing can be listed that way.
/// </summary>
internal static partial class CgroupProgramQuery
{
    // bpftool's names for the hooks a cgroup_lb object attaches to (enum bpf_attach_type values).
    private static readonly (uint Type, string Name)[] SockAddrHooks =
    [
        (10, "cgroup_inet4_connect"),
        (14, "cgroup_udp4_sendmsg"),
        (19, "cgroup_udp4_recvmsg"),
        (29, "cgroup_inet4_getpeername"),
        (11, "cgroup_inet6_connect"),
        (15, "cgroup_udp6_sendmsg"),
        (20, "cgroup_udp6_recvmsg"),
        (30, "cgroup_inet6_getpeername"),
    ];

    private const long SysBpf = 321; // x86_64
    private const long BpfProgQuery = 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct ProgQueryAttr
    {
        public uint TargetFd;
        public uint AttachType;
        public uint QueryFlags;
        public uint AttachFlags;
        public ulong ProgIds;
        public uint ProgCount;
        public uint Pad;
    }

    private const int ORdOnly = 0, ODirectory = 0x10000, OCloexec = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial long syscall(long number, long command, void* attr, long size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    public static IReadOnlyList<(int ProgramId, string AttachType)> Query(string cgroupPath)
    {
        // .NET opens no directories as files; the query needs a descriptor of the cgroup directory itself.
        int cgroupFd = open(cgroupPath, ORdOnly | ODirectory | OCloexec);
        if (cgroupFd < 0)
            throw new InvalidOperationException($"open {cgroupPath}: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            return QueryFd(cgroupPath, cgroupFd);
        }
        finally
        {
            close(cgroupFd);
        }
    }

    private static unsafe List<(int ProgramId, string AttachType)> QueryFd(string cgroupPath, int cgroupFd)
    {
        var found = new List<(int, string)>();
        uint* ids = stackalloc uint[64];
        foreach (var (type, name) in SockAddrHooks)
        {
            var attr = new ProgQueryAttr
            {
                TargetFd = (uint)cgroupFd,
                AttachType = type,
                ProgIds = (ulong)ids,
                ProgCount = 64,
            };
            if (syscall(SysBpf, BpfProgQuery, &attr, sizeof(ProgQueryAttr)) != 0)
                throw new InvalidOperationException($"BPF_PROG_QUERY {name} on {cgroupPath}: errno {Marshal.GetLastPInvokeError()}");
            for (int i = 0; i < attr.ProgCount; i++)
                found.Add(((int)ids[i], name));
        }
        return found;
    }
}
