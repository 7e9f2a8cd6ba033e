using System.Runtime.InteropServices;

namespace CgroupLb.Interop;

/// <summary>struct nlmsghdr, 16 bytes: the header of every netlink message.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NetlinkHeader
{
    public const ushort NlmsgError = 2;
    public const ushort NlmsgDone = 3;
    public const ushort NlmFRequest = 0x1;
    public const ushort NlmFAck = 0x4;
    public const ushort NlmFDump = 0x300;

    public uint Length;
    public ushort Type;
    public ushort Flags;
    public uint Sequence;
    public uint Pid;
}
