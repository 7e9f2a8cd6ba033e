using System.Net;
using CgroupLb.Model.LoadBalancing;
using CsCheck;

namespace CgroupLb.Model.Tests;

/// <summary>
/// The address order every sort of the model uses (endpoints, backends, frontends): IPv4 before IPv6, then the
/// address bytes in network order, whichever path (the 32-bit compare for IPv4, the byte compare for IPv6) decides.
/// </summary>
public class AddressOrderTests
{
    private static int ByBytes(IPAddress a, IPAddress b)
    {
        int c = a.AddressFamily.CompareTo(b.AddressFamily);
        return c != 0 ? c : a.GetAddressBytes().AsSpan().SequenceCompareTo(b.GetAddressBytes());
    }

    private static readonly Gen<IPAddress> V4 = Gen.Byte.Array[4].Select(bytes => new IPAddress(bytes));
    private static readonly Gen<IPAddress> V6 = Gen.Byte.Array[16].Select(bytes => new IPAddress(bytes));
    private static readonly Gen<IPAddress> Any = Gen.Frequency((3, V4), (1, V6));

    [Fact]
    public void TheOrderIsTheFamilyThenTheAddressBytes()
    {
        Gen.Select(Any, Any).Sample((a, b) =>
            Math.Sign(AddressOrder.Compare(a, b)) == Math.Sign(ByBytes(a, b)) && AddressOrder.Compare(a, a) == 0);
    }

    [Fact]
    public void IPv4AddressesCompareAsUnsignedNumbersInNetworkOrder()
    {
        string[] sorted = ["0.0.0.0", "10.0.0.2", "10.0.0.10", "127.255.255.255", "128.0.0.0", "198.18.0.1", "255.255.255.255", "::", "2001:db8::1"];
        var shuffled = sorted.Reverse().Select(IPAddress.Parse).ToList();

        shuffled.Sort(AddressOrder.Compare);

        Assert.Equal(sorted, shuffled.Select(a => a.ToString()));
    }
}
