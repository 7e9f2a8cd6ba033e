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

    /// <summary>
    /// The cookie the kernel gives the calling thread's network namespace (what <c>bpf_get_netns_cookie()</c> returns for
    /// its sockets), or null where the kernel cannot tell user space (SO_NETNS_COOKIE needs Linux 5.14).
    /// </summary>
    public static unsafe ulong? CurrentThreadCookie()
    {
        // Any socket reports its namespace; a Unix datagram socket needs no address family the node may lack.
        int fd = Interop.Libc.Socket(Interop.Libc.AF_UNIX, Interop.Libc.SOCK_DGRAM | Interop.Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw new BpfException("socket", Marshal.GetLastPInvokeError(), "network namespace", "/proc/thread-self/ns/net");
        try
        {
            ulong cookie = 0;
            uint length = sizeof(ulong);
            if (Interop.Libc.GetSockOpt(fd, Interop.Libc.SOL_SOCKET, Interop.Libc.SO_NETNS_COOKIE, &cookie, &length) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == (int)Errno.ENOPROTOOPT) return null;
                throw new BpfException("getsockopt(SO_NETNS_COOKIE)", errno, "network namespace", "/proc/thread-self/ns/net");
            }
            return cookie;
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }

    /// <summary>
    /// This namespace's cookie (see <see cref="CurrentThreadCookie"/>), read on a short-lived thread that enters it, so
    /// the caller's thread never changes namespace. Null where the kernel cannot tell (before 5.14).
    /// </summary>
    public ulong? GetCookie()
    {
        ulong? cookie = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                EnterOnCurrentThread();
                cookie = CurrentThreadCookie();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        }) { IsBackground = true, Name = "netns-cookie" };
        thread.Start();
        thread.Join();
        // The thread ends in the visited namespace; it is never reused, so nothing else runs there.
        if (failure is not null) throw failure;
        return cookie;
    }

    /// <summary>Closes the descriptor.</summary>
    public void Dispose() => _fd.Dispose();
}
