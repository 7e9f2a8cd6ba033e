using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Termination;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;

namespace CgroupLb.Datapath.Tests;

/// <summary>Removed pairs become the iterators' keys per family: IPv4 in sock_term_targets, IPv6 in sock_term_tgts6.</summary>
public class TerminationTargetsTests
{
    private static RemovedBackend Removed(string frontend, string backend, L4Protocol protocol) =>
        new(new Frontend(IPAddress.Parse(frontend), 53, protocol), new Backend(IPAddress.Parse(backend), 8053, protocol));

    [Fact]
    public void EachFamilyGetsItsOwnKeysAndTcpOnlyWhenAsked()
    {
        RemovedBackend[] removed =
        [
            Removed("198.51.100.53", "198.18.0.1", L4Protocol.Udp),
            Removed("2001:db8:100::53", "2001:db8:1::1", L4Protocol.Udp),
            Removed("2001:db8:100::53", "2001:db8:1::2", L4Protocol.Tcp),
        ];

        var udpOnly = TerminationTargets.Of(removed, includeTcp: false);
        var withTcp = TerminationTargets.Of(removed, includeTcp: true);

        Assert.Single(udpOnly.Keys);
        SockTerm6Key key6 = Assert.Single(udpOnly.Keys6);
        Assert.Equal(Lb6Address.Create(IPAddress.Parse("2001:db8:1::1")), key6.BackendAddress);
        Assert.Equal(Lb6Address.Create(IPAddress.Parse("2001:db8:100::53")), key6.FrontendAddress);
        Assert.Equal(NetworkOrder.ToBe16(8053), key6.BackendPortBe);
        Assert.Equal(NetworkOrder.ToBe16(53), key6.FrontendPortBe);
        Assert.Equal((byte)L4Protocol.Udp, key6.Proto);
        Assert.Equal(3, withTcp.Count);
        // One pass per family: the IPv4 keys, then the IPv6 ones, each within the capacity.
        var passes = withTcp.Chunks(1).ToList();
        Assert.Equal([(1, 0), (0, 1), (0, 1)], passes.Select(p => (p.Keys.Length, p.Keys6.Length)));
    }

    [Fact]
    public void AMixedFamilyPairIsNoTarget()
    {
        var targets = TerminationTargets.Of([Removed("198.51.100.53", "2001:db8:1::1", L4Protocol.Udp)], includeTcp: true);

        Assert.True(targets.IsEmpty);
    }

    [Fact]
    public void TheIpv6LookupsMatchOnlyTheRemovedPairOfTheirProtocol()
    {
        var targets = TerminationTargets.Of([Removed("2001:db8:100::53", "2001:db8:1::1", L4Protocol.Udp)], includeTcp: true);
        var backend = Lb6Address.Create(IPAddress.Parse("2001:db8:1::1"));
        var frontend = new Lb6ReverseSkValue { Address = Lb6Address.Create(IPAddress.Parse("2001:db8:100::53")), PortBe = NetworkOrder.ToBe16(53) };
        ushort port = NetworkOrder.ToBe16(8053);

        Assert.True(targets.HasBackend6(backend, port, (byte)L4Protocol.Udp));
        Assert.False(targets.HasBackend6(backend, port, (byte)L4Protocol.Tcp));
        Assert.True(targets.Contains6(backend, port, (byte)L4Protocol.Udp, frontend));
        Assert.False(targets.Contains6(backend, port, (byte)L4Protocol.Udp, frontend with { PortBe = NetworkOrder.ToBe16(54) }));
        Assert.False(targets.HasBackend(0x0100a8c0, port, (byte)L4Protocol.Udp));
    }
}
