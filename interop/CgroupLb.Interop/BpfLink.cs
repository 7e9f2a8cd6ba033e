namespace CgroupLb.Interop;

/// <summary>
/// An attachment of a program to a hook (<c>struct bpf_link *</c>), owned by whoever created or opened it.
/// </summary>
/// <remarks>
/// Dispose calls <c>bpf_link__destroy</c>. For the kernel bpf_links used for cgroup attachments, closing the last fd
/// detaches the program unless the link is pinned: <see cref="Pin"/> is what keeps programs attached across a
/// restart, and <see cref="OpenPinned"/> takes such a link back. <see cref="Disconnect"/> only stops libbpf from
/// detaching explicitly; it does not keep an unpinned kernel link alive.
/// </remarks>
public sealed class BpfLink : IDisposable
{
    private readonly SafeBpfLinkHandle _handle;

    internal BpfLink(SafeBpfLinkHandle handle, string description)
    {
        _handle = handle;
        Description = description;
    }

    /// <summary>What is attached where, for messages ("cil_sock4_connect on cgroup /sys/fs/cgroup/unified/x").</summary>
    public string Description { get; }

    /// <summary>The link fd, borrowed from this link.</summary>
    public int Fd
    {
        get
        {
            using var lease = new SafeHandleLease(_handle);
            return BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Fd(lease.Handle), "bpf_link__fd", "link", Description);
        }
    }

    /// <summary>
    /// The id of the program this link runs (<c>bpf_link_info.prog_id</c>, read with bpf_obj_get_info_by_fd). With
    /// <see cref="CgroupDirectory.QueryAttachedPrograms"/> it tells whether a pinned link is attached to a given cgroup.
    /// </summary>
    public unsafe uint ProgramId
    {
        get
        {
            // Only the leading, type-independent fields of struct bpf_link_info: type, id, prog_id. The kernel
            // fills at most info_len bytes.
            uint* info = stackalloc uint[3];
            uint length = 3 * sizeof(uint);
            using var lease = new SafeHandleLease(_handle);
            int fd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Fd(lease.Handle), "bpf_link__fd", "link", Description);
            BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjGetInfoByFd(fd, info, &length), "bpf_obj_get_info_by_fd", "link", Description);
            return info[2];
        }
    }

    /// <summary>Where the link is pinned, if it is.</summary>
    public unsafe string? PinPath
    {
        get
        {
            using var lease = new SafeHandleLease(_handle);
            return BpfObject.Utf8(Interop.Libbpf.BpfLink_PinPath(lease.Handle));
        }
    }

    /// <summary>Opens a link pinned in bpffs (<c>bpf_link__open</c>); the caller owns the result.</summary>
    public static BpfLink OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var link = Interop.Libbpf.BpfLink_Open(path);
        BpfException.ThrowIfNull(link, "bpf_link__open", "path", path);
        return new BpfLink(new SafeBpfLinkHandle(link), $"link pinned at {path}");
    }

    /// <summary>Pins the link in bpffs so it (and the attachment) outlives this process.</summary>
    public void Pin(string path)
    {
        using var lease = new SafeHandleLease(_handle);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Pin(lease.Handle, path), "bpf_link__pin", "link", Description, $"path {path}");
    }

    /// <summary>Removes the pin; the attachment then ends when the last fd closes.</summary>
    public void Unpin()
    {
        using var lease = new SafeHandleLease(_handle);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Unpin(lease.Handle), "bpf_link__unpin", "link", Description);
    }

    /// <summary>Detaches the program now (<c>bpf_link__detach</c>, BPF_LINK_DETACH, kernel 5.9+), even if the link is pinned.</summary>
    public void Detach()
    {
        using var lease = new SafeHandleLease(_handle);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Detach(lease.Handle), "bpf_link__detach", "link", Description);
    }

    /// <summary>
    /// Swaps the program this link runs for <paramref name="program"/> in one step (<c>bpf_link_update</c>, kernel
    /// 5.7+ for cgroup links): the hook never runs without a program, and the link keeps its id and its pin.
    /// </summary>
    public void Update(BpfProgramHandle program)
    {
        ArgumentNullException.ThrowIfNull(program);
        using var lease = new SafeHandleLease(_handle);
        using var programLease = new SafeHandleLease(program.SafeHandle);
        int fd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Fd(lease.Handle), "bpf_link__fd", "link", Description);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfLinkUpdate(fd, programLease.Fd, 0), "bpf_link_update", "link", Description, $"to program {program}");
    }

    /// <summary>The kernel id of the link itself (<c>bpf_link_info.id</c>).</summary>
    public unsafe uint Id
    {
        get
        {
            uint* info = stackalloc uint[3];
            uint length = 3 * sizeof(uint);
            using var lease = new SafeHandleLease(_handle);
            int fd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Fd(lease.Handle), "bpf_link__fd", "link", Description);
            BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjGetInfoByFd(fd, info, &length), "bpf_obj_get_info_by_fd", "link", Description);
            return info[1];
        }
    }

    /// <summary>Tells libbpf not to detach on Dispose (<c>bpf_link__disconnect</c>); see the remarks for kernel links.</summary>
    public void Disconnect()
    {
        using var lease = new SafeHandleLease(_handle);
        Interop.Libbpf.BpfLink_Disconnect(lease.Handle);
    }

    /// <summary>
    /// Starts one walk of an iterator link (<c>bpf_iter_create</c>). Iterators over network objects (iter/udp,
    /// iter/tcp) walk the network namespace of the calling thread at this moment, wherever the result is read.
    /// </summary>
    public BpfIterator CreateIterator()
    {
        using var lease = new SafeHandleLease(_handle);
        int linkFd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfLink_Fd(lease.Handle), "bpf_link__fd", "link", Description);
        int fd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfIterCreate(linkFd), "bpf_iter_create", "link", Description);
        return new BpfIterator(new SafeFileDescriptorHandle(fd), Description);
    }

    /// <summary>Destroys the link: detaches unless pinned or disconnected, and closes the fd.</summary>
    public void Dispose() => _handle.Dispose();

    /// <inheritdoc />
    public override string ToString() => Description;
}
