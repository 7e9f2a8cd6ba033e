using System.Net;
using CgroupLb.Interop;

namespace CgroupLb.Interop.Tests;

/// <summary>inet_diag's four address words as the kernel lays them out, and the v4-mapped test the netlink path relies on.</summary>
public sealed class InetDiagAddressTests
{
    private static InetDiagAddress FromBytes(IPAddress address)
    {
        byte[] b = address.MapToIPv6().GetAddressBytes();
        return new InetDiagAddress(BitConverter.ToUInt32(b, 0), BitConverter.ToUInt32(b, 4), BitConverter.ToUInt32(b, 8), BitConverter.ToUInt32(b, 12));
    }

    [Fact]
    public void AMappedAddressYieldsItsIpv4AddressInNetworkOrder()
    {
        InetDiagAddress mapped = FromBytes(IPAddress.Parse("198.18.1.2"));
        Assert.True(mapped.IsV4Mapped);
        Assert.Equal(BitConverter.ToUInt32(IPAddress.Parse("198.18.1.2").GetAddressBytes()), mapped.MappedIpv4Be);
    }

    [Theory]
    [InlineData("2001:db8:18:1::2")]
    [InlineData("::")]
    [InlineData("::198.18.1.2")]
    [InlineData("::1")]
    [InlineData("::fffe:c612:102")]
    public void OtherIpv6AddressesAreNotMapped(string address) =>
        Assert.False(FromBytes(IPAddress.Parse(address)).IsV4Mapped);

    [Fact]
    public void CopyToWritesTheBytesBack()
    {
        var address = IPAddress.Parse("2001:db8:18:1::2");
        Span<byte> bytes = stackalloc byte[16];
        FromBytes(address).CopyTo(bytes);
        Assert.Equal(address, new IPAddress(bytes));
    }
}
