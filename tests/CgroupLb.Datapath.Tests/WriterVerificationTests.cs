using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// <see cref="BpfMapWriter.VerifyApplied"/>, what the periodic full sync relies on instead of reading the maps back:
/// true while the maps hold exactly what the writer wrote, false after any change behind its back (an entry deleted,
/// changed or added, in either family and in every map it compares), and true again once the reload and the plan the
/// syncer then makes have rewritten what drifted.
/// </summary>
public class WriterVerificationTests
{
    private static readonly Frontend Web = new(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp);
    private static readonly Frontend Api = new(IPAddress.Parse("198.51.100.11"), 443, L4Protocol.Tcp);
    private static readonly Frontend Web6 = new(IPAddress.Parse("2001:db8:100::10"), 80, L4Protocol.Tcp);

    private static Backend B(int n) => new(IPAddress.Parse($"198.18.{n}.2"), 8080, L4Protocol.Tcp);
    private static Backend B6(int n) => new(IPAddress.Parse($"2001:db8:18::{n}"), 8080, L4Protocol.Tcp);

    private static readonly Dictionary<Frontend, LoadBalancerService> Desired = new()
    {
        [Web] = new(Web, "default/web:http", ServiceFlags.ClusterIp, [B(1), B(2), B(3)]),
        [Api] = new(Api, "default/api:https", ServiceFlags.ClusterIp, [B(3), B(4)]),
        [Web6] = new(Web6, "default/web:http", ServiceFlags.ClusterIp, [B6(1), B6(2)]),
    };

    private static (FakeLoadBalancerMaps Maps, BpfMapWriter Writer) Written()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        Assert.True(writer.Apply(LoadBalancerPlanner.Plan(writer.ReadApplied(), Desired)).AllApplied);
        return (maps, writer);
    }

    private static Lb4ServiceKey Key(Frontend f, ushort slot) => Lb4ServiceKey.Create(f.Address, f.Port, (byte)f.Protocol, slot);

    public static TheoryData<string> Tamperings =>
    [
        "delete master", "delete slot", "change master count", "change master flags", "point slot elsewhere",
        "change slot address copy", "add slot beyond count", "add foreign master", "delete backend", "change backend",
        "add backend", "delete ipv6 slot", "change ipv6 backend", "add refusal record",
    ];

    private static void Tamper(FakeLoadBalancerMaps maps, string how)
    {
        var master = Key(Web, 0);
        switch (how)
        {
            case "delete master": maps.Services.Remove(master); break;
            case "delete slot": maps.Services.Remove(Key(Web, 2)); break;
            case "change master count": maps.Services[master] = maps.Services[master] with { Count = 2 }; break;
            case "change master flags": maps.Services[master] = maps.Services[master] with { Flags = 0xff }; break;
            case "point slot elsewhere": maps.Services[Key(Web, 1)] = maps.Services[Key(Api, 2)] with { ServiceId = maps.Services[master].ServiceId }; break;
            case "change slot address copy": maps.Services[Key(Web, 1)] = maps.Services[Key(Web, 1)] with { BackendPortBe = 1 }; break;
            case "add slot beyond count": maps.Services[Key(Web, 4)] = maps.Services[Key(Web, 1)]; break;
            case "add foreign master": maps.Services[Key(new Frontend(IPAddress.Parse("198.51.100.99"), 80, L4Protocol.Tcp), 0)] = maps.Services[master]; break;
            case "delete backend": maps.Backends.Remove(maps.Backends.Keys.Min()); break;
            case "change backend": maps.Backends[maps.Backends.Keys.Min()] = Lb4Backend.Create(IPAddress.Parse("203.0.113.9"), 9, 6); break;
            case "add backend": maps.Backends[999] = Lb4Backend.Create(IPAddress.Parse("203.0.113.9"), 9, 6); break;
            case "delete ipv6 slot": maps.Services6.Remove(maps.Services6.Keys.First(k => k.BackendSlot == 1)); break;
            case "change ipv6 backend": maps.Backends6[maps.Backends6.Keys.Min()] = Lb6Backend.Create(IPAddress.Parse("2001:db8:99::9"), 9, 6); break;
            case "add refusal record": maps.Refused[master] = Lb4Refused.Create(LbRefusalReason.WriteFailed, 3, 0, "default/web:http", "planted"); break;
            default: throw new ArgumentException(how);
        }
    }

    [Fact]
    public void MapsExactlyAsWrittenVerify()
    {
        var (_, writer) = Written();
        Assert.True(writer.VerifyApplied());
        Assert.True(writer.Apply(LoadBalancerPlanner.Plan(writer.ReadApplied(), Desired)).AllApplied); // a no-op plan
        Assert.True(writer.VerifyApplied());
    }

    [Theory]
    [MemberData(nameof(Tamperings))]
    public void AnyChangeBehindTheWritersBackFailsVerificationAndTheReloadRepairsIt(string how)
    {
        var (maps, writer) = Written();
        var services = new Dictionary<Lb4ServiceKey, LbServiceValue>(maps.Services);
        var backends = maps.Backends.Values.ToHashSet();
        var services6 = maps.Services6.Values.Count;

        Tamper(maps, how);
        Assert.False(writer.VerifyApplied());

        // What the syncer does then: read the maps back, diff every desired frontend (a frontend with a refusal record
        // is upserted as it is, which drops the record), apply.
        var plan = LoadBalancerPlanner.Plan(writer.ReadApplied(), Desired);
        var recorded = writer.ReadRefused().Where(f => !plan.Upserts.Any(s => s.Frontend == f)).Select(f => Desired[f]);
        var result = writer.Apply(new LoadBalancerPlan([.. plan.Upserts, .. recorded], plan.Deletes));
        Assert.True(result.AllApplied);
        Assert.True(writer.VerifyApplied(), how);
        foreach (var f in new[] { Web, Api })
            Assert.Equal(Desired[f].Backends.Select(b => $"{b.Address}:{b.Port}").ToHashSet(), maps.Reachable(f.Address, f.Port));
        Assert.Equal(Desired[Web6].Backends.Select(b => $"[{b.Address}]:{b.Port}").ToHashSet(), maps.Reachable6(Web6.Address, Web6.Port));
        Assert.Equal(backends, maps.Backends.Values.ToHashSet());
        Assert.Equal(services.Count, maps.Services.Count);
        Assert.Equal(services6, maps.Services6.Count);
        Assert.Empty(maps.Refused);
    }
}
