using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Mirror of <c>union lb6_addr</c>: an IPv6 address as the kernel stores it (16 bytes in network order). Kept as two
/// raw words so equality and hashing need no byte loop; only <see cref="Create"/> and <see cref="Address"/> convert.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct Lb6Address : IEquatable<Lb6Address>
{
    [FieldOffset(0)] public ulong High;
    [FieldOffset(8)] public ulong Low;

    public static Lb6Address Create(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException($"{address} is not an IPv6 address", nameof(address));
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return MemoryMarshal.Read<Lb6Address>(bytes);
    }

    public readonly IPAddress Address
    {
        get
        {
            Span<byte> bytes = stackalloc byte[16];
            MemoryMarshal.Write(bytes, in this);
            return new IPAddress(bytes);
        }
    }

    public readonly bool IsZero => (High | Low) == 0;

    public readonly bool Equals(Lb6Address other) => High == other.High && Low == other.Low;
    public override readonly bool Equals(object? obj) => obj is Lb6Address a && Equals(a);
    public override readonly int GetHashCode() => HashCode.Combine(High, Low);

    /// <summary>The order of the address bytes (as <see cref="Model.LoadBalancing.AddressOrder"/> compares them).</summary>
    public readonly int CompareTo(Lb6Address other)
    {
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        MemoryMarshal.Write(a, in this);
        MemoryMarshal.Write(b, in other);
        return a.SequenceCompareTo(b);
    }

    public override readonly string ToString() => Address.ToString();
}
