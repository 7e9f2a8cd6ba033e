using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb4_sk_frontend</c>, the socket-local storage value of lb4_sk_frontend. Only the BPF programs
/// read and write it (user space cannot enumerate socket storage); the mirror exists so the loader checks the map's
/// value size and the layout test pins the struct down.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 20)]
internal struct Lb4SkFrontend
{
    [FieldOffset(0)] public uint BackendAddressBe;
    [FieldOffset(4)] public uint FrontendAddressBe;
    [FieldOffset(8)] public ushort BackendPortBe;
    [FieldOffset(10)] public ushort FrontendPortBe;
    [FieldOffset(12)] public uint ServiceId;
    [FieldOffset(16)] public ushort Flags;
    [FieldOffset(18)] public ushort Pad;
}
