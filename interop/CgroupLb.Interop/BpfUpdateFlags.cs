namespace CgroupLb.Interop;

/// <summary>Update intent for map writes (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK from linux/bpf.h).</summary>
[Flags]
public enum BpfUpdateFlags : ulong
{
    /// <summary>Create or replace.</summary>
    Any = 0,

    /// <summary>Create only; EEXIST if the key exists.</summary>
    NoExist = 1,

    /// <summary>Replace only; ENOENT if the key is missing.</summary>
    Exist = 2,

    /// <summary>Take the value's bpf_spin_lock while copying.</summary>
    Lock = 4,
}
