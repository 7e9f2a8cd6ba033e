using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// One walk of a BPF iterator (the fd <c>bpf_iter_create</c> returns): reading runs the program over the objects and
/// returns what it wrote with bpf_seq_write/bpf_seq_printf; end of file means the walk is complete. Owned by the
/// caller; Dispose closes the fd.
/// </summary>
public sealed class BpfIterator : IDisposable
{
    private readonly SafeFileDescriptorHandle _fd;

    internal BpfIterator(SafeFileDescriptorHandle fd, string description)
    {
        _fd = fd;
        Description = description;
    }

    /// <summary>The link this walk came from, for messages.</summary>
    public string Description { get; }

    /// <summary>Runs the walk to its end and returns everything the program wrote (often nothing).</summary>
    public unsafe byte[] ReadToEnd()
    {
        using var output = new MemoryStream();
        // The kernel fills at most a page per read; a bigger buffer only saves calls.
        var buffer = new byte[16 * 1024];
        using var lease = new SafeHandleLease(_fd);
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
                n = Interop.Libc.Read(lease.Fd, p, (nuint)buffer.Length);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == (int)Errno.EINTR || errno == (int)Errno.EAGAIN)
                    continue;
                throw new BpfException("read", errno, "iterator", Description);
            }
            if (n == 0)
                return output.ToArray();
            output.Write(buffer, 0, (int)n);
        }
    }

    /// <summary>Closes the walk.</summary>
    public void Dispose() => _fd.Dispose();
}
