using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// An open cgroup v2 directory: the attach target of cgroup BPF programs. The caller owns it (Dispose closes the fd);
/// attaching only borrows it, since a bpf_link keeps its own reference to the cgroup.
/// </summary>
public sealed class CgroupDirectory : SafeHandle
{
    private CgroupDirectory(int fd, string path)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
        Path = path;
    }

    /// <summary>The path the directory was opened from.</summary>
    public string Path { get; }

    /// <summary>This directory as the SafeHandle <see cref="BpfProgram.AttachCgroup"/> takes (it is its own handle).</summary>
    public SafeHandle Handle => this;

    /// <inheritdoc />
    public override bool IsInvalid => handle < 0;

    /// <summary>
    /// Opens <paramref name="path"/> with O_RDONLY|O_DIRECTORY|O_CLOEXEC and checks it is on cgroup2 (cgroup v1
    /// hierarchies cannot run cgroup socket programs). Errors name the path and the reason.
    /// </summary>
    public static unsafe CgroupDirectory Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var reason = BpfException.Describe(errno);
            throw (Errno)errno switch
            {
                Errno.ENOENT => new DirectoryNotFoundException($"cgroup directory {path} does not exist: {reason}"),
                Errno.ENOTDIR => new IOException($"cgroup path {path} is not a directory: {reason}", errno),
                Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException($"cannot open cgroup directory {path}: {reason}"),
                _ => new IOException($"cannot open cgroup directory {path}: {reason}", errno),
            };
        }

        var directory = new CgroupDirectory(fd, path);
        try
        {
            var buffer = stackalloc byte[Interop.Libc.StatFsBufferSize];
            if (Interop.Libc.FStatFs(fd, buffer) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"cannot statfs cgroup directory {path}: {BpfException.Describe(errno)}", errno);
            }

            var magic = *(long*)buffer; // f_type, the first field of struct statfs
            if (magic != Interop.Libc.CGROUP2_SUPER_MAGIC)
            {
                throw new IOException(
                    $"{path} is not a cgroup v2 directory: filesystem magic is 0x{magic:x}, cgroup2 is 0x{Interop.Libc.CGROUP2_SUPER_MAGIC:x} " +
                    "(cgroup socket programs need the unified hierarchy, e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified)");
            }

            return directory;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Ids of the programs attached directly to this cgroup at <paramref name="attachType"/> (<c>bpf_prog_query</c>),
    /// whether through links or legacy attachments.
    /// </summary>
    public unsafe IReadOnlyList<uint> QueryAttachedPrograms(BpfAttachType attachType)
    {
        using var lease = new SafeHandleLease(this);
        uint attachFlags = 0;
        uint count = 0;
        BpfException.ThrowIfNegative(
            Interop.Libbpf.BpfProgQuery(lease.Fd, (int)attachType, 0, &attachFlags, null, &count), "bpf_prog_query", "cgroup", Path, $"{attachType}");
        while (true)
        {
            var ids = new uint[Math.Max(count, 1)];
            var capacity = (uint)ids.Length;
            fixed (uint* idPointer = ids)
            {
                var result = Interop.Libbpf.BpfProgQuery(lease.Fd, (int)attachType, 0, &attachFlags, idPointer, &capacity);
                if (result == -(int)Errno.ENOSPC)
                {
                    count = capacity; // more programs were attached between the two queries
                    continue;
                }

                BpfException.ThrowIfNegative(result, "bpf_prog_query", "cgroup", Path, $"{attachType}");
            }

            return ids.AsSpan(0, (int)capacity).ToArray();
        }
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => Interop.Libc.Close((int)handle) == 0;

    /// <inheritdoc />
    public override string ToString() => Path;
}
