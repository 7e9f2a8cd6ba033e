using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Conversions for the ABI's __be16/__be32 fields. The mirrors keep those fields as the raw integers the
/// kernel stores (network byte order in memory), so a struct copied to or from a map needs no fix-ups.
/// </summary>
internal static class NetworkOrder
{
    public static uint ToBe32(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        // The bytes are already in network order; reading them natively keeps that order in memory.
        return BitConverter.ToUInt32(bytes);
    }

    public static IPAddress FromBe32(uint be32)
    {
        Span<byte> bytes = stackalloc byte[4];
        BitConverter.TryWriteBytes(bytes, be32);
        return new IPAddress(bytes);
    }

    public static ushort ToBe16(ushort port) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(port) : port;

    public static ushort FromBe16(ushort be16) => ToBe16(be16);
}
