using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// The one decoder of the maps: status reads through it without writing anything, and corrupt or foreign contents
/// are reported, never thrown or looped over, and repaired only by the owning writer.
/// </summary>
public class MapSnapshotTests
{
    private static readonly IPAddress Vip = IPAddress.Parse("198.51.100.10");
    private static readonly Frontend Web = new(Vip, 80, L4Protocol.Tcp);
    private static readonly Lb4ServiceKey WebKey = Lb4ServiceKey.Create(Vip, 80, 6, 0);

    private static Backend B(int n) => new(IPAddress.Parse($"198.18.{n}.2"), 8080, L4Protocol.Tcp);

    private static LoadBalancerService Svc(Frontend f, params int[] backends) =>
        new(f, "default/web:http", ServiceFlags.ClusterIp, [.. backends.Select(B).Order()]);

    private static LoadBalancerPlan Upsert(params LoadBalancerService[] s) => new([.. s], []);

    /// <summary>A writer caught between steps: a new backend no slot names yet, and a slot beyond the master's count.</summary>
    private static FakeLoadBalancerMaps MapsMidUpdate()
    {
        var maps = new FakeLoadBalancerMaps();
        new BpfMapWriter(maps, NullLogger.Instance).Apply(Upsert(Svc(Web, 1, 2)));
        maps.Backends[99] = Lb4Backend.Create(IPAddress.Parse("198.18.9.9"), 8080, 6);
        maps.Services[WebKey.WithSlot(3)] = LbServiceValue.Slot(maps.Services[WebKey].ServiceId, 99, new Backend(IPAddress.Parse("198.18.9.9"), 8080, L4Protocol.Tcp));
        maps.Refused[Lb4ServiceKey.Create(IPAddress.Parse("198.51.100.11"), 80, 6, 0)] =
            Lb4Refused.Create(LbRefusalReason.ServiceMapFull, 3, 4, "default/big:http", "lb4_services is full");
        return maps;
    }

    [Fact]
    public void StatusReadsWithoutASingleWriteOrDelete()
    {
        var maps = MapsMidUpdate();
        int before = maps.Mutations;
        var services = maps.Services.ToDictionary();
        var backends = maps.Backends.ToDictionary();

        var status = StatusReader.Read(maps);

        Assert.Equal(before, maps.Mutations);
        Assert.Equal(services, maps.Services);
        Assert.Equal(backends, maps.Backends); // the planted backend and slot survive
        var web = Assert.Single(status.Frontends);
        Assert.Equal(2, web.Backends.Count);
        Assert.Empty(web.Problems);
        Assert.Equal(2, status.Warnings.Count);
        var refused = Assert.Single(status.Refused);
        Assert.Equal("service_map_full", refused.Reason);
        Assert.Equal("default/big:http", refused.Name);
        Assert.False(refused.Programmed);
    }

    [Fact]
    public void OnlyTheOwningWriterDeletesLeftovers()
    {
        var maps = MapsMidUpdate();
        StatusReader.Read(maps);
        Assert.True(maps.Services.ContainsKey(WebKey.WithSlot(3)));

        new BpfMapWriter(maps, NullLogger.Instance);

        Assert.False(maps.Services.ContainsKey(WebKey.WithSlot(3)));
        Assert.False(maps.Backends.ContainsKey(99));
    }

    [Fact]
    public void ACountAboveTheSlotLimitIsBoundedReportedAndRewritten()
    {
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 4096);
        maps.Backends[1] = Lb4Backend.Create(B(1).Address, 8080, 6);
        maps.Services[WebKey] = LbServiceValue.Master(7, 60000, ServiceFlags.ClusterIp, 0);
        for (ushort slot = 1; slot <= 1100; slot++)
            maps.Services[WebKey.WithSlot(slot)] = LbServiceValue.Slot(7, 1, new Backend(B(1).Address, 8080, L4Protocol.Tcp));

        var status = StatusReader.Read(maps);
        var web = Assert.Single(status.Frontends);
        Assert.Equal(LbLimits.MaxBackendSlots, web.Backends.Count);
        Assert.Contains(web.Problems, p => p.Contains("60000"));

        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        var applied = writer.ReadApplied();
        Assert.Equal("", applied[Web].Name); // no desired service has an empty name: the planner rewrites it
        Assert.True(writer.Apply(Upsert(Svc(Web, 1, 2))).AllApplied);

        Assert.Equal(2, maps.Services[WebKey].Count);
        Assert.Equal(3, maps.Services.Count); // slots beyond the limit went on reload, beyond the new count on rewrite
        Assert.Empty(Assert.Single(StatusReader.Read(maps).Frontends).Problems);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(70000u)]
    public void AServiceIdOutOfRangeIsReportedAndReplaced(uint badId)
    {
        var maps = new FakeLoadBalancerMaps();
        maps.Backends[1] = Lb4Backend.Create(B(1).Address, 8080, 6);
        maps.Services[WebKey] = LbServiceValue.Master(badId, 1, ServiceFlags.ClusterIp, 0);
        maps.Services[WebKey.WithSlot(1)] = LbServiceValue.Slot(badId, 1, new Backend(B(1).Address, 8080, L4Protocol.Tcp));

        Assert.Contains(Assert.Single(StatusReader.Read(maps).Frontends).Problems, p => p.Contains("service id"));

        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        Assert.True(writer.Apply(Upsert(Svc(Web, 1))).AllApplied);
        uint id = maps.Services[WebKey].ServiceId;
        Assert.InRange(id, 1u, maps.ServiceIdLimit - 1);
        Assert.Equal(id, maps.Services[WebKey.WithSlot(1)].ServiceId);
        Assert.Equal("default/web:http", maps.Names[id]);
    }

    [Fact]
    public void AServiceIdSharedByTwoFrontendsIsGivenUpByTheSecond()
    {
        var maps = new FakeLoadBalancerMaps();
        var other = new Frontend(IPAddress.Parse("198.51.100.11"), 80, L4Protocol.Tcp);
        var otherKey = Lb4ServiceKey.Create(other.Address, 80, 6, 0);
        maps.Services[WebKey] = LbServiceValue.Master(5, 0, ServiceFlags.ClusterIp, 0);
        maps.Services[otherKey] = LbServiceValue.Master(5, 0, ServiceFlags.ClusterIp, 0);

        var snapshot = MapSnapshot.Read(maps);
        Assert.False(snapshot.Frontends[0].IsDamaged);
        Assert.True(snapshot.Frontends[1].IsDamaged);

        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        Assert.True(writer.Apply(Upsert(Svc(Web), Svc(other) with { Name = "default/other:http" })).AllApplied);
        Assert.NotEqual(maps.Services[WebKey].ServiceId, maps.Services[otherKey].ServiceId);
    }

    [Fact]
    public void ASlotNamingAMissingBackendIsShownAndRewritten()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Upsert(Svc(Web, 1, 2)));
        uint gone = maps.Services[WebKey.WithSlot(2)].BackendId;
        maps.Backends.Remove(gone);

        var web = Assert.Single(StatusReader.Read(maps).Frontends);
        Assert.Null(web.Backends[1].Backend);
        Assert.Equal(gone, web.Backends[1].BackendId);

        var restarted = new BpfMapWriter(maps, NullLogger.Instance);
        Assert.NotEqual(Svc(Web, 1, 2), restarted.ReadApplied()[Web]);
        Assert.True(restarted.Apply(Upsert(Svc(Web, 1, 2))).AllApplied);
        Assert.Equal(new HashSet<string> { "198.18.1.2:8080", "198.18.2.2:8080" }, maps.Reachable(Vip, 80));
    }

    [Fact]
    public void StatusShowsBothFamiliesIpv6InBracketsAndRfc5952Form()
    {
        var maps = new FakeLoadBalancerMaps();
        var web6 = new Frontend(IPAddress.Parse("2001:0DB8:0100:0000:0000:0000:0000:0010"), 80, L4Protocol.Tcp);
        var backend6 = new Backend(IPAddress.Parse("2001:db8:18::1"), 8080, L4Protocol.Tcp);
        new BpfMapWriter(maps, NullLogger.Instance).Apply(Upsert(Svc(Web, 1), new LoadBalancerService(web6, "default/web:http", ServiceFlags.ClusterIp, [backend6])));

        var status = StatusReader.Read(maps);

        Assert.Equal(["198.51.100.10:80/TCP", "[2001:db8:100::10]:80/TCP"], status.Frontends.Select(f => f.Frontend.ToString()));
        Assert.Equal("[2001:db8:18::1]:8080", status.Frontends[1].Backends.Single().Backend.ToString());
        Assert.Empty(status.Warnings);
        Assert.Contains(status.Maps, m => m.Name == MapNames.Services6 && m.Entries == 2);
        Assert.Contains(status.Maps, m => m.Name == MapNames.Backends6 && m.Entries == 1);
        Assert.Contains(status.Maps, m => m.Name == MapNames.Backends && m.Entries == 1);
    }

    [Fact]
    public void AnIpv6SlotNamingAnIpv4BackendIdIsAHoleAndRewritten()
    {
        var maps = new FakeLoadBalancerMaps();
        var web6 = new Frontend(IPAddress.Parse("2001:db8:100::10"), 80, L4Protocol.Tcp);
        var backend6 = new Backend(IPAddress.Parse("2001:db8:18::1"), 8080, L4Protocol.Tcp);
        new BpfMapWriter(maps, NullLogger.Instance).Apply(Upsert(Svc(Web, 1), new LoadBalancerService(web6, "default/web6:http", ServiceFlags.ClusterIp, [backend6])));
        var slot6 = Lb6ServiceKey.Create(web6.Address, 80, 6, 1);
        uint ipv4Id = maps.Backends.Keys.Single();
        maps.Services6[slot6] = maps.Services6[slot6] with { BackendId = ipv4Id };

        var status = StatusReader.Read(maps);
        Assert.Contains("1 of 1 slots name no backend", status.Frontends.Single(f => f.Frontend == web6).Problems);

        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(new LoadBalancerPlan([new LoadBalancerService(web6, "default/web6:http", ServiceFlags.ClusterIp, [backend6])], []));
        Assert.Equal(new HashSet<string> { "[2001:db8:18::1]:8080" }, maps.Reachable6(web6.Address, 80));
        Assert.Empty(StatusReader.Read(maps).Frontends.SelectMany(f => f.Problems));
    }
}
