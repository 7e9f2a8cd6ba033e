using System.Net;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

/// <summary>The writer takes the number of service ids from the stats map it writes, not from a constant.</summary>
public class ServiceIdLimitTests
{
    private static LoadBalancerService Svc(int n) =>
        new(new Frontend(IPAddress.Parse($"198.51.100.{n}"), 80, L4Protocol.Tcp), $"default/s{n}:http", ServiceFlags.ClusterIp,
            [new Backend(IPAddress.Parse($"198.18.{n}.2"), 8080, L4Protocol.Tcp)]);

    [Fact]
    public void ServiceIdsRunOutAtTheStatsMapSize()
    {
        // lb_svc_stats with 3 entries: index 0 is "none", so ids 1 and 2 exist.
        var maps = new FakeLoadBalancerMaps(serviceIdLimit: 3);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(new LoadBalancerPlan([Svc(1), Svc(2)], []));

        var refused = Assert.Single(writer.Apply(new LoadBalancerPlan([Svc(3)], [])).Refused);
        Assert.Equal(RefusalReason.NoServiceId, refused.Reason);
        Assert.Contains("no free service id (all 2 in use)", refused.Detail);
        Assert.Equal(2, writer.ReadApplied().Count);
    }
}
