using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.NodeAddresses;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.NodePorts.NodePortSandbox;

namespace CgroupLb.Kernel.Tests.NodePorts;

/// <summary>
/// NodePort through the wildcard frontend and the node-address set, IPv4 and IPv6: this node's own address (on an
/// interface of the client namespace, learned over rtnetlink), another Node's address (in the set, not local), loopback
/// from the host namespace, a pod's own loopback left alone, and an address that is no node's left alone. Lean: these
/// also run in the 5.10 and 6.1 guests, where the host namespace cannot be named (no SO_NETNS_COOKIE before 5.14):
/// there the client namespace is a pod like any other, and its loopback must stay its own.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class NodePortTests(ITestOutputHelper output)
{
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task Ipv4NodePortReachesBackendsThroughEveryNodeAddressAndHostLoopbackOnly()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        ulong? host = ClientNamespaceCookie(sandbox);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(WithHost(sandbox.DatapathOptions(), host), _log);
        var backends = new[] { sandbox.Backend("b1").Address, sandbox.Backend("b2").Address };
        datapath.Writer.Apply(new LoadBalancerPlan(
        [
            NodePortService(IPAddress.Any, NodePort, L4Protocol.Tcp, backends, SandboxBackend.TcpPort),
            NodePortService(IPAddress.Any, UdpNodePort, L4Protocol.Udp, backends, SandboxBackend.UdpPort),
        ], []));

        // This node's address comes from the client namespace's interfaces, over rtnetlink; another Node's from the API.
        var sync = datapath.CreateNodeAddressSync(NodePortAddresses.All, _log.CreateLogger("node-addresses"));
        using var watcher = HostAddressWatcher.Start(a => sync.SetLocalAddresses(a), _log.CreateLogger("watcher"), "/run/netns/" + sandbox.ClientNamespace);
        await watcher.FirstSet;
        await AddNodeAddressAsync(sandbox, "203.0.113.1/32");
        var local = IPAddress.Parse("203.0.113.1");
        await Eventually.TrueAsync(() => sync.Current.Contains(local), TimeSpan.FromSeconds(10), () => $"node addresses: {string.Join(", ", sync.Current)}");
        sync.SetClusterNodeAddresses([IPAddress.Parse("192.0.2.20")]);

        var viaLocal = new IPEndPoint(local, NodePort);
        var viaRemote = new IPEndPoint(IPAddress.Parse("192.0.2.20"), NodePort);
        var viaLoopback = new IPEndPoint(IPAddress.Loopback, NodePort);
        var attempts = (await sandbox.TcpConnectAsync(viaLocal, count: 20)).Concat(await sandbox.TcpConnectAsync(viaRemote, count: 20)).ToList();
        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Contains(a.Backend, new[] { "b1", "b2" });
        });
        // getpeername shows the node address and nodePort the client used, not the wildcard.
        Assert.Equal([viaLocal, viaRemote], attempts.Select(a => a.PeerEndPoint).Distinct());

        PeerAttempt udp = Assert.Single(await sandbox.UdpSendToAsync(new IPEndPoint(viaRemote.Address, UdpNodePort)));
        Assert.True(udp.Ok, udp.ToString());
        Assert.Equal(new IPEndPoint(viaRemote.Address, UdpNodePort), udp.FromEndPoint);

        PeerAttempt notANode = Assert.Single(await sandbox.TcpConnectAsync(new IPEndPoint(IPAddress.Parse("198.51.100.99"), NodePort)));
        Assert.False(notANode.Ok, notANode.ToString());
        Assert.Equal("ENETUNREACH", notANode.Error);

        // A pod's own 127.0.0.1:nodePort is the pod's: b3's listener answers, not a backend of the NodePort.
        var pod = await TcpConnectFromPodAsync(sandbox, sandbox.Backend("b3"), viaLoopback, count: 5);
        Assert.All(pod, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal("b3", a.Backend);
            Assert.Equal(viaLoopback, a.PeerEndPoint);
        });

        PeerAttempt fromNode = Assert.Single(await sandbox.TcpConnectAsync(viaLoopback));
        if (host is not null)
        {
            Assert.True(fromNode.Ok, fromNode.ToString());
            Assert.Contains(fromNode.Backend, new[] { "b1", "b2" });
            Assert.Equal(viaLoopback, fromNode.PeerEndPoint);
        }
        else
        {
            // Before 5.14 the host is init_net, so the client namespace is a pod: nothing listens on its loopback.
            _log.Write("no SO_NETNS_COOKIE: the client namespace is not the host; its loopback stays its own");
            Assert.False(fromNode.Ok, fromNode.ToString());
            Assert.Equal("ECONNREFUSED", fromNode.Error);
        }

        // The address leaves the interface: the set follows, and the address is no node's any more.
        await RemoveNodeAddressAsync(sandbox, "203.0.113.1/32");
        await Eventually.TrueAsync(() => !sync.Current.Contains(local), TimeSpan.FromSeconds(10), () => $"node addresses: {string.Join(", ", sync.Current)}");
        PeerAttempt gone = Assert.Single(await sandbox.TcpConnectAsync(viaLocal));
        Assert.False(gone.Ok, gone.ToString());
        Assert.Equal("ENETUNREACH", gone.Error);
    }

    [SkippableFact]
    public async Task Ipv6NodePortReachesBackendsThroughNodeAddressesAndHostLoopbackOnly()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write, ipv6: true);
        ulong? host = ClientNamespaceCookie(sandbox);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(WithHost(sandbox.DatapathOptions(), host), _log);
        datapath.Writer.Apply(Upsert(NodePortService(IPAddress.IPv6Any, NodePort, L4Protocol.Tcp,
            [sandbox.Backend("b1").Address6, sandbox.Backend("b2").Address6], SandboxBackend.TcpPort)));
        await AddNodeAddressAsync(sandbox, "2001:db8:203::1/128", ipv6: true);
        var local = IPAddress.Parse("2001:db8:203::1");
        var remote = IPAddress.Parse("2001:db8:192::20");
        var sync = datapath.CreateNodeAddressSync(NodePortAddresses.All, _log.CreateLogger("node-addresses"));
        Assert.True(sync.SetLocalAddresses([local, IPAddress.Parse("fe80::1")]));
        Assert.True(sync.SetClusterNodeAddresses([remote]));
        Assert.Equal([remote, local], sync.Current.OrderBy(a => a.ToString()));
        Assert.Contains(datapath.ReadStatus().Maps, m => m.Name == "lb6_node_addrs" && m.Entries == 2);

        var viaLocal = new IPEndPoint(local, NodePort);
        var viaRemote = new IPEndPoint(remote, NodePort);
        var viaLoopback = new IPEndPoint(IPAddress.IPv6Loopback, NodePort);
        var attempts = (await sandbox.TcpConnectAsync(viaLocal, count: 10)).Concat(await sandbox.TcpConnectAsync(viaRemote, count: 10)).ToList();
        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Contains(a.Backend, new[] { "b1", "b2" });
        });
        Assert.Equal([viaLocal, viaRemote], attempts.Select(a => a.PeerEndPoint).Distinct());

        PeerAttempt notANode = Assert.Single(await sandbox.TcpConnectAsync(new IPEndPoint(IPAddress.Parse("2001:db8:100::99"), NodePort)));
        Assert.False(notANode.Ok, notANode.ToString());
        Assert.Equal("ENETUNREACH", notANode.Error);

        var pod = await TcpConnectFromPodAsync(sandbox, sandbox.Backend("b3"), viaLoopback, count: 5);
        Assert.All(pod, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal("b3", a.Backend);
        });

        PeerAttempt fromNode = Assert.Single(await sandbox.TcpConnectAsync(viaLoopback));
        if (host is not null)
        {
            Assert.True(fromNode.Ok, fromNode.ToString());
            Assert.Contains(fromNode.Backend, new[] { "b1", "b2" });
            Assert.Equal(viaLoopback, fromNode.PeerEndPoint);
        }
        else
        {
            Assert.False(fromNode.Ok, fromNode.ToString());
            Assert.Equal("ECONNREFUSED", fromNode.Error);
        }
    }

    /// <summary>
    /// A restarted agent adopts the frontend filters its predecessor armed. A node address it writes before its first
    /// Service write (the node-address sync starts on its own) must still get its lb6_fe_filter bit, or connect6
    /// would end at the filter and never look up the NodePort wildcard.
    /// </summary>
    [SkippableFact]
    public async Task AnIpv6NodeAddressWrittenBeforeTheFirstServiceWriteAfterARestartIsReachable()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        using (LoadBalancerDatapath first = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log))
        {
            first.Writer.Apply(Upsert(NodePortService(IPAddress.IPv6Any, NodePort, L4Protocol.Tcp,
                [sandbox.Backend("b1").Address6, sandbox.Backend("b2").Address6], SandboxBackend.TcpPort)));
        }
        using LoadBalancerDatapath second = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        var remote = IPAddress.Parse("2001:db8:192::20");
        var sync = second.CreateNodeAddressSync(NodePortAddresses.All, _log.CreateLogger("node-addresses"));
        Assert.True(sync.SetClusterNodeAddresses([remote]));

        IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(new IPEndPoint(remote, NodePort), count: 5);

        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Contains(a.Backend, new[] { "b1", "b2" });
        });
    }
}
