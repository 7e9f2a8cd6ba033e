using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb_trace_event</c>, one ring buffer record of lb_trace_events. Addresses are 16 bytes in
/// network order; <see cref="Family"/> 4 uses the first 4.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal unsafe struct LbTraceEvent
{
    public const int Size = 96;
    public const int CommLength = 16;
    public const int AddressLength = 16;

    [FieldOffset(0)] public ulong TimeNs;
    [FieldOffset(8)] public ulong CgroupId;
    [FieldOffset(16)] public ulong NetnsCookie;
    [FieldOffset(24)] public ulong SocketCookie;
    [FieldOffset(32)] public uint Pid;
    [FieldOffset(36)] public uint ServiceId;
    [FieldOffset(40)] public fixed byte Comm[CommLength];
    [FieldOffset(56)] public fixed byte FrontendAddress[AddressLength];
    [FieldOffset(72)] public fixed byte BackendAddress[AddressLength];
    [FieldOffset(88)] public ushort FrontendPortBe;
    [FieldOffset(90)] public ushort BackendPortBe;
    [FieldOffset(92)] public byte Family;
    [FieldOffset(93)] public byte Proto;
    [FieldOffset(94)] public byte Hook;
    [FieldOffset(95)] public byte Verdict;
}
