namespace CgroupLb.Interop;

/// <summary>
/// An owned fd on a loaded program, independent of any <see cref="BpfObject"/>: it keeps the program alive after the
/// object that loaded it is closed, so the program can be attached again later (a link pin removed by hand, a cgroup
/// recreated) or swapped into an existing link. Dispose closes the fd.
/// </summary>
public sealed class BpfProgramHandle : IDisposable
{
    private readonly SafeFileDescriptorHandle _fd;

    private BpfProgramHandle(SafeFileDescriptorHandle fd, string description)
    {
        _fd = fd;
        Info = BpfProgramInfo.Read((int)fd.DangerousGetHandle(), description);
    }

    /// <summary>The kernel's view of the program (id, tag, name, maps).</summary>
    public BpfProgramInfo Info { get; }

    /// <summary>Opens a program by kernel id (<c>bpf_prog_get_fd_by_id</c>, needs CAP_SYS_ADMIN).</summary>
    public static BpfProgramHandle FromId(uint id)
    {
        var fd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfProgGetFdById(id), "bpf_prog_get_fd_by_id", "program", $"id {id}");
        return new BpfProgramHandle(new SafeFileDescriptorHandle(fd), $"id {id}");
    }

    /// <summary>
    /// Attaches the program to <paramref name="cgroup"/> at <paramref name="attachType"/> with a new kernel bpf_link
    /// (<c>bpf_link_create</c>) and pins that link at <paramref name="pinPath"/>; the pin keeps it attached. If the
    /// pin fails the link is closed again, which detaches it: nothing is left half-done.
    /// </summary>
    public void AttachCgroupPinned(CgroupDirectory cgroup, BpfAttachType attachType, string pinPath)
    {
        using var program = new SafeHandleLease(_fd);
        using var target = new SafeHandleLease(cgroup);
        var linkFd = BpfException.ThrowIfNegative(Interop.Libbpf.BpfLinkCreate(program.Fd, target.Fd, (int)attachType, 0),
            "bpf_link_create", "program", Info.Name, $"{attachType} on cgroup {cgroup.Path}");
        using var link = new SafeFileDescriptorHandle(linkFd);
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfObjPin(linkFd, pinPath), "bpf_obj_pin", "link", $"{Info.Name} on cgroup {cgroup.Path}", $"path {pinPath}");
    }

    internal SafeFileDescriptorHandle SafeHandle => _fd;

    /// <summary>Closes this fd; the program lives on while a link or another fd holds it.</summary>
    public void Dispose() => _fd.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"{Info.Name} (id {Info.Id}, tag {Info.Tag})";
}
