using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb_node_addr</c>, the value of lb4_node_addrs (key: the __be32 address) and lb6_node_addrs
/// (key: <see cref="Lb6Address"/>). The programs only test presence; the flags say where the address came from.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
internal struct LbNodeAddress
{
    [FieldOffset(0)] public uint Flags;
}

/// <summary>Mirror of <c>enum lb_node_addr_flags</c>.</summary>
[Flags]
internal enum LbNodeAddrFlags : uint
{
    None = 0,
    /// <summary>An address of this host's interfaces.</summary>
    Local = 1 << 0,
    /// <summary>A Node object's InternalIP/ExternalIP.</summary>
    Remote = 1 << 1,
}
