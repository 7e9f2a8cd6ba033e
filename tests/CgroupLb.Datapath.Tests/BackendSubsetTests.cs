using System.Collections.Immutable;
using System.Net;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Tests;

public class BackendSubsetTests
{
    private static readonly Frontend Web = new(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp);

    private static ImmutableArray<Backend> Backends(IEnumerable<int> ids) =>
        [.. ids.Select(n => new Backend(IPAddress.Parse($"198.18.{n / 250}.{n % 250 + 1}"), 8080, L4Protocol.Tcp)).Order()];

    [Fact]
    public void ASetWithinTheLimitIsKeptWhole()
    {
        var all = Backends(Enumerable.Range(0, 100));
        Assert.Equal(all.ToArray(), BackendSubset.Select(Web, all, 1024).ToArray());
    }

    [Fact]
    public void TheSubsetIsSortedAndDoesNotDependOnInputOrder()
    {
        var all = Backends(Enumerable.Range(0, 3000));
        var shuffled = all.OrderBy(b => b.GetHashCode()).ToImmutableArray();
        var subset = BackendSubset.Select(Web, all, 1024);
        Assert.Equal(1024, subset.Length);
        Assert.Equal(subset.Order().ToArray(), subset.ToArray());
        Assert.Equal(subset.ToArray(), BackendSubset.Select(Web, shuffled, 1024).ToArray());
    }

    [Theory]
    [InlineData(2000, 2001)]
    [InlineData(2000, 1999)]
    [InlineData(1500, 1600)]
    public void AddingOrRemovingEndpointsMovesAtMostThatManyMembers(int before, int after)
    {
        var a = BackendSubset.Select(Web, Backends(Enumerable.Range(0, before)), 1024);
        var b = BackendSubset.Select(Web, Backends(Enumerable.Range(0, after)), 1024);
        Assert.True(a.Except(b).Count() <= Math.Abs(after - before), $"{a.Except(b).Count()} members changed");
    }

    [Fact]
    public void DifferentFrontendsChooseDifferentSubsets()
    {
        var all = Backends(Enumerable.Range(0, 2048));
        var other = Web with { Port = 81 };
        Assert.NotEqual(BackendSubset.Select(Web, all, 1024).ToArray(), BackendSubset.Select(other, all, 1024).ToArray());
    }
}
