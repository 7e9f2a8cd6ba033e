using CgroupLb.Datapath.Writing;

namespace CgroupLb.Datapath.Tests;

/// <summary>The values lb_svc_gen hands out: never 0 ("never reuse"), always within the 24 bits a socket's entry keeps.</summary>
public class ServiceGenerationsTests
{
    [Theory]
    [InlineData(0u, 1u)]          // an id never written starts at 1
    [InlineData(1u, 2u)]
    [InlineData(0xfffffeu, 0xffffffu)]
    [InlineData(0xffffffu, 1u)]   // the last 24-bit value wraps past 0
    [InlineData(0x1000000u, 1u)]  // foreign contents beyond the range come back into it
    [InlineData(uint.MaxValue, 1u)]
    public void NextStaysWithinTwentyFourBitsAndSkipsZero(uint current, uint next)
    {
        Assert.Equal(next, ServiceGenerations.Next(current));
        Assert.InRange(ServiceGenerations.Next(current), 1u, ServiceGenerations.Limit - 1);
    }
}
