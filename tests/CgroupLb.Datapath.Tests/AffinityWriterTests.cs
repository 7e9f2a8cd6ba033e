using System.Net;
using System.Net.Sockets;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// sessionAffinity reaches the kernel through the master entry: LB_SVC_F_AFFINITY and affinity_timeout, which the
/// programs read on every connect. A change of either is a master write only; a restarted writer reads them back.
/// </summary>
public class AffinityWriterTests
{
    private static readonly Frontend Web = new(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp);
    private static readonly Frontend Web6 = new(IPAddress.Parse("2001:db8:100::10"), 80, L4Protocol.Tcp);

    private static LoadBalancerService Svc(Frontend f, uint affinityTimeout)
    {
        bool v6 = f.Address.AddressFamily == AddressFamily.InterNetworkV6;
        Backend B(int n) => new(IPAddress.Parse(v6 ? $"2001:db8:18:{n}::2" : $"198.18.{n}.2"), 8080, L4Protocol.Tcp);
        var flags = ServiceFlags.ClusterIp | (affinityTimeout > 0 ? ServiceFlags.Affinity : ServiceFlags.None);
        return new(f, "default/web:http", flags, [B(1), B(2), B(3)], affinityTimeout);
    }

    private static LoadBalancerPlan Upsert(params LoadBalancerService[] s) => new([.. s], []);

    private static LbServiceValue Master4(FakeLoadBalancerMaps maps) =>
        maps.Services.Single(e => e.Key.BackendSlot == 0).Value;

    private static Lb6ServiceValue Master6(FakeLoadBalancerMaps maps) =>
        maps.Services6.Single(e => e.Key.BackendSlot == 0).Value;

    [Fact]
    public void AClientIpFrontendCarriesTheFlagAndTimeoutInItsMaster()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);

        writer.Apply(Upsert(Svc(Web, 10800), Svc(Web6, 60)));

        Assert.Equal(LbServiceFlags.ClusterIp | LbServiceFlags.Affinity, (LbServiceFlags)Master4(maps).Flags);
        Assert.Equal(10800u, Master4(maps).AffinityTimeout);
        Assert.Equal(LbServiceFlags.ClusterIp | LbServiceFlags.Affinity, (LbServiceFlags)Master6(maps).Flags);
        Assert.Equal(60u, Master6(maps).AffinityTimeout);
        // Slots carry no affinity: only the master is read for it.
        Assert.All(maps.Services.Where(e => e.Key.BackendSlot > 0), e => Assert.Equal(0u, e.Value.AffinityTimeout));
    }

    [Theory]
    [InlineData(10800u, 60u)]
    [InlineData(10800u, 0u)]
    [InlineData(0u, 1u)]
    public void ChangingAffinityRewritesTheMasterOnly(uint before, uint after)
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, before)));
        maps.Log.Clear();

        writer.Apply(Upsert(Svc(Web, after)));

        Assert.Equal(["master 198.51.100.10:80 count=3"], maps.Log);
        Assert.Equal(after, Master4(maps).AffinityTimeout);
        Assert.Equal(after > 0, ((LbServiceFlags)Master4(maps).Flags).HasFlag(LbServiceFlags.Affinity));
    }

    [Fact]
    public void ARestartedWriterReadsAffinityBackAndRewritesNothing()
    {
        var maps = new FakeLoadBalancerMaps();
        new BpfMapWriter(maps, NullLogger.Instance).Apply(Upsert(Svc(Web, 10800), Svc(Web6, 60)));
        maps.Log.Clear();

        var restarted = new BpfMapWriter(maps, NullLogger.Instance);
        var applied = restarted.ReadApplied();
        restarted.Apply(Upsert(Svc(Web, 10800), Svc(Web6, 60)));

        Assert.Equal(Svc(Web, 10800), applied[Web]);
        Assert.Equal(Svc(Web6, 60), applied[Web6]);
        Assert.Empty(maps.Log);
    }

    [Fact]
    public void StatusShowsTheTimeoutOfAffineFrontendsOnly()
    {
        var maps = new FakeLoadBalancerMaps();
        var plain = Svc(new Frontend(IPAddress.Parse("198.51.100.11"), 80, L4Protocol.Tcp), 0);
        new BpfMapWriter(maps, NullLogger.Instance).Apply(Upsert(Svc(Web, 10800), plain, Svc(Web6, 60)));

        var status = StatusReader.Read(maps);

        Assert.Equal(10800u, status.Frontends.Single(f => f.Frontend == Web).AffinityTimeoutSeconds);
        Assert.Equal(60u, status.Frontends.Single(f => f.Frontend == Web6).AffinityTimeoutSeconds);
        Assert.Null(status.Frontends.Single(f => f.Frontend == plain.Frontend).AffinityTimeoutSeconds);
        Assert.Contains(status.Maps, m => m.Name == MapNames.Affinity);
    }
}
