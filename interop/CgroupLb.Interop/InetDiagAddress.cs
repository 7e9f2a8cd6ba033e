namespace CgroupLb.Interop;

/// <summary>
/// An address as <c>struct inet_diag_sockid</c> carries it: four 32-bit words in network byte order, of which an IPv4
/// socket uses the first. An AF_INET6 socket talking to an IPv4 peer holds it v4-mapped (::ffff:a.b.c.d).
/// </summary>
public readonly record struct InetDiagAddress(uint Word0, uint Word1, uint Word2, uint Word3)
{
    private const uint MappedMarkerBe = 0xffff_0000; // htonl(0x0000ffff) as it lies in memory on a little-endian host

    /// <summary>An IPv4 address in the first word, as inet_diag reports an AF_INET socket's.</summary>
    public static InetDiagAddress FromIpv4(uint addressBe) => new(addressBe, 0, 0, 0);

    /// <summary>Whether this is ::ffff:a.b.c.d (only meaningful for an AF_INET6 socket).</summary>
    public bool IsV4Mapped => Word0 == 0 && Word1 == 0 && Word2 == (BitConverter.IsLittleEndian ? MappedMarkerBe : 0x0000_ffffu);

    /// <summary>The IPv4 address of a v4-mapped one, in network byte order.</summary>
    public uint MappedIpv4Be => Word3;

    /// <summary>The 16 address bytes as the kernel holds them.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BitConverter.TryWriteBytes(destination, Word0);
        BitConverter.TryWriteBytes(destination[4..], Word1);
        BitConverter.TryWriteBytes(destination[8..], Word2);
        BitConverter.TryWriteBytes(destination[12..], Word3);
    }
}
