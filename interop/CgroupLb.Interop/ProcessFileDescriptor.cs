using System.Globalization;
using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// A copy of another process's file descriptor (pidfd_open + pidfd_getfd, Linux 5.6+; needs the right to ptrace the
/// process, which root has): the same open file, e.g. a socket whose socket storage only a socket fd can look up.
/// Owned by the caller; closing it leaves the process's descriptor alone.
/// </summary>
public sealed class ProcessFileDescriptor : IDisposable
{
    private readonly SafeFileDescriptorHandle _fd;

    private ProcessFileDescriptor(SafeFileDescriptorHandle fd) => _fd = fd;

    /// <summary>The copy's descriptor number in this process.</summary>
    public int Fd => (int)_fd.DangerousGetHandle();

    /// <summary>Copies descriptor <paramref name="targetFd"/> of <paramref name="pid"/>; null when the process or the descriptor is gone.</summary>
    public static ProcessFileDescriptor? TryCopy(int pid, int targetFd)
    {
        nint pidfd = Interop.Libc.Syscall(Interop.Libc.SYS_pidfd_open, pid, 0, 0);
        if (pidfd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == (int)Errno.ESRCH)
                return null;
            throw new BpfException("pidfd_open", errno, "process", pid.ToString(CultureInfo.InvariantCulture));
        }
        using var pidHandle = new SafeFileDescriptorHandle((int)pidfd);
        nint fd = Interop.Libc.Syscall(Interop.Libc.SYS_pidfd_getfd, pidfd, targetFd, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is (int)Errno.EBADF or (int)Errno.ESRCH)
                return null;
            throw new BpfException("pidfd_getfd", errno, "process", pid.ToString(CultureInfo.InvariantCulture), $"fd {targetFd}");
        }
        return new ProcessFileDescriptor(new SafeFileDescriptorHandle((int)fd));
    }

    /// <summary>Closes the copy.</summary>
    public void Dispose() => _fd.Dispose();
}
