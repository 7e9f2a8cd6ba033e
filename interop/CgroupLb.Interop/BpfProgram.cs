using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>
/// A program inside a <see cref="BpfObject"/> (<c>struct bpf_program *</c>). Borrowed: it has no handle of its own,
/// every call holds a reference on the object's handle, and it is unusable once the object is disposed.
/// </summary>
public sealed class BpfProgram
{
    private readonly nint _program;

    internal unsafe BpfProgram(BpfObject owner, nint program)
    {
        Object = owner;
        _program = program;
        Name = BpfObject.Utf8(Interop.Libbpf.BpfProgram_Name(program)) ?? string.Empty;
        SectionName = BpfObject.Utf8(Interop.Libbpf.BpfProgram_SectionName(program)) ?? string.Empty;
    }

    /// <summary>The object this program belongs to.</summary>
    public BpfObject Object { get; }

    /// <summary>The program's C function name.</summary>
    public string Name { get; }

    /// <summary>The ELF section, e.g. "cgroup/connect4".</summary>
    public string SectionName { get; }

    /// <summary>The program type libbpf derived from the section name.</summary>
    public BpfProgramType Type
    {
        get
        {
            using var lease = Lease();
            return (BpfProgramType)Interop.Libbpf.BpfProgram_Type(_program);
        }
    }

    /// <summary>The attach type libbpf derived from the section name (e.g. CgroupInet4Connect for "cgroup/connect4").</summary>
    public BpfAttachType ExpectedAttachType
    {
        get
        {
            using var lease = Lease();
            return (BpfAttachType)Interop.Libbpf.BpfProgram_ExpectedAttachType(_program);
        }
    }

    /// <summary>Whether <see cref="BpfObject.Load"/> will load this program.</summary>
    public bool Autoload
    {
        get
        {
            using var lease = Lease();
            return Interop.Libbpf.BpfProgram_Autoload(_program);
        }
    }

    /// <summary>The program fd after load, borrowed from the object (closed with it); -1 before load.</summary>
    public int Fd
    {
        get
        {
            using var lease = Lease();
            var fd = Interop.Libbpf.BpfProgram_Fd(_program);
            return fd < 0 ? -1 : fd;
        }
    }

    /// <summary>The kernel's view of the loaded program (id, tag, maps); only after load.</summary>
    public BpfProgramInfo Info
    {
        get
        {
            using var lease = Lease();
            var fd = Interop.Libbpf.BpfProgram_Fd(_program);
            BpfException.ThrowIfNegative(fd, "bpf_program__fd", "program", Name, "not loaded");
            return BpfProgramInfo.Read(fd, Name);
        }
    }

    /// <summary>Chooses whether <see cref="BpfObject.Load"/> loads this program; only possible before load.</summary>
    public void SetAutoload(bool autoload)
    {
        using var lease = Lease();
        BpfException.ThrowIfNegative(Interop.Libbpf.BpfProgram_SetAutoload(_program, autoload), "bpf_program__set_autoload", "program", Name);
    }

    /// <summary>
    /// Attaches the loaded program to a cgroup v2 directory with a kernel bpf_link (<c>bpf_program__attach_cgroup</c>,
    /// BPF_F_ALLOW_MULTI semantics; kernel 5.7+). The returned link is owned by the caller and does not depend on this
    /// object: disposing an unpinned link detaches the program.
    /// </summary>
    /// <param name="cgroupFd">An open cgroup directory, usually a <see cref="CgroupDirectory"/>; it is only borrowed for the call.</param>
    public BpfLink AttachCgroup(SafeHandle cgroupFd)
    {
        ArgumentNullException.ThrowIfNull(cgroupFd);
        var target = cgroupFd is CgroupDirectory directory ? $"cgroup {directory.Path}" : "cgroup fd";
        using var lease = Lease();
        using var cgroup = new SafeHandleLease(cgroupFd);
        var link = Interop.Libbpf.BpfProgram_AttachCgroup(_program, cgroup.Fd);
        BpfException.ThrowIfNull(link, "bpf_program__attach_cgroup", "program", Name, $"target {target}");
        return new BpfLink(new SafeBpfLinkHandle(link), $"{Name} on {target}");
    }

    /// <summary>
    /// Attaches a loaded iterator program ("iter/udp", "iter/tcp", ...) without parameters
    /// (<c>bpf_program__attach_iter</c>, kernel 5.8+). The caller owns the link; each
    /// <see cref="BpfLink.CreateIterator"/> on it then walks the objects once.
    /// </summary>
    public BpfLink AttachIterator()
    {
        using var lease = Lease();
        var link = Interop.Libbpf.BpfProgram_AttachIter(_program, 0);
        BpfException.ThrowIfNull(link, "bpf_program__attach_iter", "program", Name);
        return new BpfLink(new SafeBpfLinkHandle(link), $"{Name} iterator");
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({SectionName})";

    private SafeHandleLease Lease() => new(Object.Handle);
}
