using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// An exclusive <c>flock(2)</c> on a directory, held until Dispose (or until the process exits: the kernel drops
/// the lock with the last fd, so a crashed holder never leaves it behind). Every process that opens the same inode
/// contends for the same lock, including processes in other mount and PID namespaces that see the directory through a
/// bind mount (pods mounting the host's /sys/fs/bpf).
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    private readonly SafeFileDescriptorHandle _fd;

    private DirectoryLock(SafeFileDescriptorHandle fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The locked directory.</summary>
    public string Path { get; }

    /// <summary>
    /// Takes the lock if nobody holds it (<c>LOCK_EX|LOCK_NB</c>); null when another open file holds it. Errors other
    /// than contention (no such directory, no permission) throw with the path named.
    /// </summary>
    public static DirectoryLock? TryAcquire(string path)
    {
        var fd = OpenDirectory(path);
        try
        {
            if (Interop.Libc.Flock((int)fd.DangerousGetHandle(), Interop.Libc.LOCK_EX | Interop.Libc.LOCK_NB) == 0)
            {
                var acquired = new DirectoryLock(fd, path);
                fd = null;
                return acquired;
            }

            var errno = Marshal.GetLastPInvokeError();
            if ((Errno)errno == Errno.EAGAIN) // EWOULDBLOCK
                return null;
            throw new IOException($"cannot lock {path}: {BpfException.Describe(errno)}", errno);
        }
        finally
        {
            fd?.Dispose();
        }
    }

    /// <summary>
    /// The directory's identity as /proc/locks prints it ("MAJ:MIN:INODE", major and minor in hex), to find who holds
    /// a lock on it.
    /// </summary>
    public static unsafe string LockIdentity(string path)
    {
        using var fd = OpenDirectory(path);
        var buffer = stackalloc byte[Interop.Libc.StatBufferSize];
        if (Interop.Libc.FStat((int)fd.DangerousGetHandle(), buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot stat {path}: {BpfException.Describe(errno)}", errno);
        }

        var device = *(ulong*)buffer;
        var inode = *(ulong*)(buffer + 8);
        // glibc's dev_t encoding (gnu_dev_major / gnu_dev_minor).
        var major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfffUL);
        var minor = (device & 0xff) | ((device >> 12) & ~0xffUL);
        return $"{major:x2}:{minor:x2}:{inode}";
    }

    private static SafeFileDescriptorHandle OpenDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot open {path} to lock it: {BpfException.Describe(errno)}", errno);
        }

        return new SafeFileDescriptorHandle(fd);
    }

    /// <summary>Releases the lock (closing the fd releases a flock).</summary>
    public void Dispose() => _fd.Dispose();

    /// <inheritdoc />
    public override string ToString() => Path;
}
