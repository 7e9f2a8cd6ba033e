using System.Collections.Immutable;
using System.Net;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

public class BpfMapWriterTests
{
    private static readonly IPAddress Vip = IPAddress.Parse("198.51.100.10");
    private static readonly Frontend Web = new(Vip, 80, L4Protocol.Tcp);

    private static Backend B(int n) => new(IPAddress.Parse($"198.18.{n}.2"), 8080, L4Protocol.Tcp);
    private static string S(int n) => $"198.18.{n}.2:8080";

    private static LoadBalancerService Svc(Frontend f, params int[] backends) =>
        new(f, "default/web:http", ServiceFlags.ClusterIp, [.. backends.Select(B).Order()]);

    private static LoadBalancerPlan Upsert(params LoadBalancerService[] s) => new([.. s], []);

    [Fact]
    public void NewFrontendWritesBackendsThenSlotsThenMaster()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2)));

        Assert.Equal(new[]
        {
            "backend+ 1=198.18.1.2:8080", "backend+ 2=198.18.2.2:8080",
            "slot 198.51.100.10:80#1=1", "slot 198.51.100.10:80#2=2",
            "master 198.51.100.10:80 count=2",
        }, maps.Log);
        Assert.Equal(new HashSet<string> { S(1), S(2) }, maps.Reachable(Vip, 80));
    }

    [Fact]
    public void ShrinkingLowersTheCountBeforeDeletingSlotsAndDeletesStaleBackendsLast()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2, 3)));
        maps.Log.Clear();

        writer.Apply(Upsert(Svc(Web, 1, 3)));

        Assert.Equal(new[]
        {
            "slot 198.51.100.10:80#2=3",
            "master 198.51.100.10:80 count=2",
            "slot- 198.51.100.10:80#3",
            "backend- 2",
        }, maps.Log);
    }

    [Fact]
    public void ReplacingOneBackendWritesOnlyItsSlotAndLeavesTheMasterAlone()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2, 3)));
        maps.Log.Clear();

        writer.Apply(Upsert(Svc(Web, 1, 2, 4)));

        Assert.Equal(new[] { "backend+ 4=198.18.4.2:8080", "slot 198.51.100.10:80#3=4", "backend- 3" }, maps.Log);
    }

    [Fact]
    public void RemovingAFrontendDeletesMasterFirstThenSlotsThenBackends()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2)));
        maps.Log.Clear();

        writer.Apply(new LoadBalancerPlan([], [Web]));

        Assert.Equal(new[]
        {
            "master- 198.51.100.10:80", "slot- 198.51.100.10:80#1", "slot- 198.51.100.10:80#2",
            "backend- 1", "backend- 2",
        }, maps.Log);
        Assert.Null(maps.Reachable(Vip, 80));
        Assert.Empty(maps.Services);
        Assert.Empty(maps.Backends);
    }

    [Fact]
    public void UnchangedFrontendIsNotRewritten()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2)));
        maps.Log.Clear();
        writer.Apply(Upsert(Svc(Web, 2, 1)));
        Assert.Empty(maps.Log);
    }

    [Fact]
    public void EmptyBackendSetIsAMasterWithCountZero()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web)));
        Assert.Equal(new[] { "master 198.51.100.10:80 count=0" }, maps.Log);
        Assert.Empty(maps.Reachable(Vip, 80)!);
    }

    [Fact]
    public void BackendMovedBetweenFrontendsInOnePlanKeepsItsId()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        var dns = new Frontend(IPAddress.Parse("198.51.100.53"), 80, L4Protocol.Tcp);
        writer.Apply(Upsert(Svc(Web, 1)));
        maps.Log.Clear();

        writer.Apply(new LoadBalancerPlan([Svc(dns, 1)], [Web]));

        Assert.DoesNotContain(maps.Log, l => l.StartsWith("backend", StringComparison.Ordinal));
        Assert.Equal(new HashSet<string> { S(1) }, maps.Reachable(dns.Address, 80));
    }

    /// <summary>
    /// The property the data path relies on: at every intermediate state of any change between two backend sets, a
    /// connect reaches only members of the old or the new set, never a hole and never a third backend.
    /// </summary>
    [Theory]
    [InlineData(new[] { 1, 2, 3 }, new[] { 2 })]
    [InlineData(new[] { 1 }, new[] { 1, 2, 3, 4 })]
    [InlineData(new[] { 1, 2 }, new[] { 3, 4 })]
    [InlineData(new[] { 1, 2, 3, 4 }, new[] { 4, 5 })]
    [InlineData(new[] { 5 }, new int[0])]
    [InlineData(new int[0], new[] { 1, 2 })]
    public void EveryIntermediateStateReachesOnlyOldOrNewBackends(int[] before, int[] after)
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, before)));
        var allowed = before.Concat(after).Select(S).ToHashSet();
        int checks = 0;
        maps.AfterEachMutation = () =>
        {
            checks++;
            var reach = maps.Reachable(Vip, 80);
            Assert.NotNull(reach); // the frontend never disappears while being replaced
            Assert.DoesNotContain("HOLE", reach);
            Assert.Subset(allowed, reach);
        };
        writer.Apply(Upsert(Svc(Web, after)));
        Assert.True(checks > 0);
        Assert.Equal(after.Select(S).ToHashSet(), maps.Reachable(Vip, 80));
    }

    [Fact]
    public void FullServiceMapIsRefusedBeforeAnythingIsWritten()
    {
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 4);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2)));
        maps.Log.Clear();
        var other = new Frontend(IPAddress.Parse("198.51.100.11"), 80, L4Protocol.Tcp);

        var result = writer.Apply(Upsert(Svc(other, 3)));

        var refused = Assert.Single(result.Refused);
        Assert.Equal(other, refused.Frontend);
        Assert.Equal(RefusalReason.ServiceMapFull, refused.Reason);
        Assert.Contains("lb4_services is full", refused.Detail);
        Assert.Empty(maps.Log);
        Assert.Null(maps.Reachable(other.Address, 80));
    }

    /// <summary>A write the kernel keeps refusing: the frontend is rolled back to its old backends and refused alone.</summary>
    [Fact]
    public void AFailedUpdateRollsTheFrontendBackToItsOldBackends()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2, 3)));
        var oldIds = maps.Backends.Keys.ToHashSet();
        maps.Log.Clear();
        maps.RejectServiceEntry = (key, value) => key.BackendSlot != 0 && !oldIds.Contains(value.BackendId);

        var result = writer.Apply(Upsert(Svc(Web, 4, 5)));
        maps.RejectServiceEntry = null;

        var refused = Assert.Single(result.Refused);
        Assert.Equal(Web, refused.Frontend);
        Assert.Equal(RefusalReason.WriteFailed, refused.Reason);
        Assert.Equal(new HashSet<string> { S(1), S(2), S(3) }, maps.Reachable(Vip, 80));
        Assert.Equal(new[] { B(1), B(2), B(3) }, writer.ReadApplied()[Web].Backends.ToArray());
        Assert.Equal(3, maps.Backends.Count); // backends 4 and 5 were collected again
    }

    /// <summary>A batch that fails once part-way: the fallback writes the frontend alone and it ends up written.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AOneTimeFailureFallsBackAndStillWritesTheFrontend(int failAt)
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2, 3)));
        maps.FailAtMutation = failAt;
        maps.AfterEachMutation = () =>
        {
            var reach = maps.Reachable(Vip, 80);
            Assert.NotNull(reach);
            Assert.DoesNotContain("HOLE", reach);
            Assert.Subset(new[] { 1, 2, 3, 4, 5 }.Select(S).ToHashSet(), reach);
        };

        var result = writer.Apply(Upsert(Svc(Web, 4, 5)));

        Assert.True(result.AllApplied);
        Assert.Equal(new HashSet<string> { S(4), S(5) }, maps.Reachable(Vip, 80));
        Assert.Equal(2, maps.Backends.Count);
        Assert.Equal(Svc(Web, 4, 5), writer.ReadApplied()[Web]);
    }

    [Fact]
    public void AFailedNewFrontendLeavesNoTrace()
    {
        var maps = new FakeLoadBalancerMaps { RejectServiceEntry = (key, _) => key.BackendSlot == 0 };
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        var result = writer.Apply(Upsert(Svc(Web, 1, 2)));
        Assert.Equal(RefusalReason.WriteFailed, Assert.Single(result.Refused).Reason);
        Assert.Empty(maps.Services);
        Assert.Empty(maps.Backends);
        Assert.Empty(maps.Names);
        maps.RejectServiceEntry = null;
        Assert.Empty(writer.ReadApplied());
    }

    [Fact]
    public void ARestartedWriterAdoptsWhatTheMapsHoldAndCollectsLeftovers()
    {
        var maps = new FakeLoadBalancerMaps();
        var first = new BpfMapWriter(maps, NullLogger.Instance);
        first.Apply(Upsert(Svc(Web, 1, 2)));
        // Leftovers of a writer that died mid-update: a slot with no master and a backend nobody uses.
        var ghost = CgroupLb.Datapath.Abi.Lb4ServiceKey.Create(IPAddress.Parse("198.51.100.99"), 80, 6, 1);
        maps.Services[ghost] = CgroupLb.Datapath.Abi.LbServiceValue.Slot(77, 1, B(1));
        maps.Backends[99] = CgroupLb.Datapath.Abi.Lb4Backend.Create(IPAddress.Parse("198.18.9.9"), 1, 6);

        var second = new BpfMapWriter(maps, NullLogger.Instance);
        var applied = second.ReadApplied();

        Assert.Equal(Svc(Web, 1, 2), applied[Web]);
        Assert.False(maps.Services.ContainsKey(ghost));
        Assert.False(maps.Backends.ContainsKey(99));
        maps.Log.Clear();
        second.Apply(Upsert(Svc(Web, 1, 2)));
        Assert.Empty(maps.Log); // adopted state equals desired state: nothing rewritten
    }

    private static readonly IPAddress Vip6 = IPAddress.Parse("2001:db8:100::10");
    private static readonly Frontend Web6 = new(Vip6, 80, L4Protocol.Tcp);

    private static Backend B6(int n) => new(IPAddress.Parse($"2001:db8:18::{n}"), 8080, L4Protocol.Tcp);

    private static LoadBalancerService Svc6(Frontend f, params int[] backends) =>
        new(f, "default/web:http", ServiceFlags.ClusterIp, [.. backends.Select(B6).Order()]);

    [Fact]
    public void Ipv6FrontendGoesToTheIpv6MapsInTheSameOrder()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc6(Web6, 1, 2)));

        Assert.Equal(new[]
        {
            "backend+ 1=[2001:db8:18::1]:8080", "backend+ 2=[2001:db8:18::2]:8080",
            "slot [2001:db8:100::10]:80#1=1", "slot [2001:db8:100::10]:80#2=2",
            "master [2001:db8:100::10]:80 count=2",
        }, maps.Log);
        Assert.Equal(new HashSet<string> { "[2001:db8:18::1]:8080", "[2001:db8:18::2]:8080" }, maps.Reachable6(Vip6, 80));
        Assert.Empty(maps.Services);
        Assert.Empty(maps.Backends);
    }

    [Fact]
    public void DualStackFrontendsShareTheServiceAndBackendIdSpaces()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2), Svc6(Web6, 1, 2)));

        Assert.Equal(new HashSet<string> { S(1), S(2) }, maps.Reachable(Vip, 80));
        Assert.Equal(new HashSet<string> { "[2001:db8:18::1]:8080", "[2001:db8:18::2]:8080" }, maps.Reachable6(Vip6, 80));
        var ids = maps.Backends.Keys.Concat(maps.Backends6.Keys).ToList();
        Assert.Equal(4, ids.Distinct().Count());
        var serviceIds = new[]
        {
            maps.Services.Single(e => e.Key.BackendSlot == 0).Value.ServiceId,
            maps.Services6.Single(e => e.Key.BackendSlot == 0).Value.ServiceId,
        };
        Assert.Equal(2, serviceIds.Distinct().Count());
        Assert.All(serviceIds, id => Assert.Equal("default/web:http", maps.Names[id]));
    }

    [Fact]
    public void Ipv6FrontendsAreAdoptedOnReloadAndRemovedMasterFirst()
    {
        var maps = new FakeLoadBalancerMaps();
        new BpfMapWriter(maps, NullLogger.Instance).Apply(Upsert(Svc6(Web6, 1, 2), Svc(Web, 3)));

        var second = new BpfMapWriter(maps, NullLogger.Instance);
        Assert.Equal(Svc6(Web6, 1, 2), second.ReadApplied()[Web6]);
        maps.Log.Clear();
        second.Apply(Upsert(Svc6(Web6, 1, 2), Svc(Web, 3)));
        Assert.Empty(maps.Log);

        second.Apply(new LoadBalancerPlan([Svc6(Web6, 2)], []));
        Assert.Equal(new[] { "slot [2001:db8:100::10]:80#1=2", "master [2001:db8:100::10]:80 count=1", "slot- [2001:db8:100::10]:80#2" },
            maps.Log.Take(3));
        maps.Log.Clear();
        second.Apply(new LoadBalancerPlan([], [Web6]));
        Assert.Equal(new[] { "master- [2001:db8:100::10]:80", "slot- [2001:db8:100::10]:80#1" }, maps.Log.Take(2));
        Assert.Empty(maps.Services6);
        Assert.Empty(maps.Backends6);
        Assert.Equal(new HashSet<string> { S(3) }, maps.Reachable(Vip, 80));
    }

    [Fact]
    public void NodeWithoutIpv6RefusesIpv6FrontendsAndWritesIpv4()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance, ipv6: false);
        var result = writer.Apply(Upsert(Svc(Web, 1), Svc6(Web6, 1)));

        var refused = Assert.Single(result.Refused);
        Assert.Equal(Web6, refused.Frontend);
        Assert.Equal(RefusalReason.Unsupported, refused.Reason);
        Assert.Contains("IPv6 is disabled", refused.Detail);
        Assert.Empty(maps.Services6);
        Assert.Single(maps.Refused6); // for status
        Assert.Equal(new HashSet<string> { S(1) }, maps.Reachable(Vip, 80));
    }

    [Fact]
    public void BackendOfTheOtherFamilyIsRefusedWithAReason()
    {
        var writer = new BpfMapWriter(new FakeLoadBalancerMaps(), NullLogger.Instance);
        var mixed = new LoadBalancerService(Web6, "x", ServiceFlags.ClusterIp, [B(1)]);
        var refused = Assert.Single(writer.Apply(Upsert(mixed)).Refused);
        Assert.Equal(RefusalReason.Unsupported, refused.Reason);
        Assert.Contains("address family", refused.Detail);
    }
}
