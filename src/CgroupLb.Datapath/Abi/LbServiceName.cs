using System.Runtime.InteropServices;
using System.Text;

namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>struct lb_service_name</c>: a NUL-terminated UTF-8 service port name.</summary>
[StructLayout(LayoutKind.Sequential, Size = Length)]
internal unsafe struct LbServiceName
{
    public const int Length = 256;
    public fixed byte Name[Length];

    public static LbServiceName Create(string name)
    {
        var value = new LbServiceName();
        var bytes = Encoding.UTF8.GetBytes(name);
        // Truncate rather than fail: the name is for people; the service id is what the kernel uses.
        int n = Math.Min(bytes.Length, Length - 1);
        bytes.AsSpan(0, n).CopyTo(new Span<byte>(value.Name, Length));
        return value;
    }

    public override readonly string ToString()
    {
        fixed (byte* p = Name)
        {
            var span = new ReadOnlySpan<byte>(p, Length);
            int end = span.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
        }
    }
}
