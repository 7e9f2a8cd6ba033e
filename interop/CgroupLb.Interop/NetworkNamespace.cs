using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// An open network namespace file (<c>/proc/PID/ns/net</c>, <c>/proc/thread-self/ns/net</c>). Owned by the caller;
/// Dispose closes the descriptor, the namespace lives on while anything else holds it.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private readonly SafeFileDescriptorHandle _fd;

    private NetworkNamespace(SafeFileDescriptorHandle fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The file this namespace was opened from, for messages.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens a namespace file. Another user's process needs CAP_SYS_PTRACE (ptrace read access to it); a process that
    /// exited fails with ENOENT or ESRCH.
    /// </summary>
    public static NetworkNamespace Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC);
        if (fd < 0)
            throw new BpfException("open", Marshal.GetLastPInvokeError(), "network namespace", path);
        return new NetworkNamespace(new SafeFileDescriptorHandle(fd), path);
    }

    /// <summary>The namespace the calling thread is in now; what a thread that visits others returns to.</summary>
    public static NetworkNamespace OpenCurrentThread() => Open("/proc/thread-self/ns/net");

    /// <summary>
    /// Moves the calling thread (only it: setns(2) with CLONE_NEWNET) into this namespace; needs CAP_SYS_ADMIN.
    /// Sockets and iterators the thread creates afterwards belong to this namespace. Call it only on a thread you
    /// own and return it before the thread runs anything else.
    /// </summary>
    public void EnterOnCurrentThread()
    {
        using var lease = new SafeHandleLease(_fd);
        if (Interop.Libc.Setns(lease.Fd, Interop.Libc.CLONE_NEWNET) != 0)
            throw new BpfException("setns", Marshal.GetLastPInvokeError(), "network namespace", Path);
    }

    /// <summary>Closes the descriptor.</summary>
    public void Dispose() => _fd.Dispose();
}
