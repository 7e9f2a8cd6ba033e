using System.Runtime.InteropServices;
using System.Text;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>struct lb4_refused</c>, the value of lb4_refused keyed by a frontend's master key: why the agent did
/// not program that frontend as asked. Only user space reads or writes it.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 400)]
internal unsafe struct Lb4Refused
{
    public const int NameLength = LbServiceName.Length;
    public const int DetailLength = 128;

    [FieldOffset(0)] public uint Reason;
    [FieldOffset(4)] public uint Backends;
    [FieldOffset(8)] public uint Limit;
    [FieldOffset(12)] public uint Pad;
    [FieldOffset(16)] public fixed byte Name[NameLength];
    [FieldOffset(16 + NameLength)] public fixed byte Detail[DetailLength];

    public static Lb4Refused Create(LbRefusalReason reason, uint backends, uint limit, string name, string detail)
    {
        var value = new Lb4Refused { Reason = (uint)reason, Backends = backends, Limit = limit };
        Encode(name, new Span<byte>(value.Name, NameLength));
        Encode(detail, new Span<byte>(value.Detail, DetailLength));
        return value;
    }

    public readonly string NameText
    {
        get { fixed (byte* p = Name) return Decode(new ReadOnlySpan<byte>(p, NameLength)); }
    }

    public readonly string DetailText
    {
        get { fixed (byte* p = Detail) return Decode(new ReadOnlySpan<byte>(p, DetailLength)); }
    }

    // Truncated rather than refused: both strings are for people; the key is what identifies the frontend.
    private static void Encode(string text, Span<byte> destination)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes.AsSpan(0, Math.Min(bytes.Length, destination.Length - 1)).CopyTo(destination);
    }

    private static string Decode(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
