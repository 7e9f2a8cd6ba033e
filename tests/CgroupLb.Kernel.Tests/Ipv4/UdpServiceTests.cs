using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// UDP through sendmsg4/recvmsg4 (unconnected sockets translate per datagram and must see replies come from the VIP)
/// and through connect4/getpeername4 (connected sockets).
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class UdpServiceTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Dns = new(Vip(53), 53);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task UnconnectedSendtoReachesBackendsAndRepliesComeFromTheVip()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, sandbox.Backends)));

        IReadOnlyList<PeerAttempt> attempts = await sandbox.UdpSendToAsync(Dns, count: 60);

        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            // recvfrom() must name the address the client sent to, or resolvers drop the answer as spoofed.
            Assert.Equal(Dns, a.FromEndPoint);
        });
        Assert.Equal(["b1", "b2", "b3"], attempts.Select(a => a.Backend!).Distinct().Order());
    }

    [SkippableFact]
    public async Task ConnectedUdpReachesABackendAndSeesTheVipAsPeerAndSource()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Udp(Dns.Address, 53, sandbox.Backends)));

        IReadOnlyList<PeerAttempt> attempts = await sandbox.UdpConnectedAsync(Dns, count: 60);

        Assert.All(attempts, a =>
        {
            Assert.True(a.Ok, a.ToString());
            Assert.Equal(Dns, a.PeerEndPoint);
            Assert.Equal(Dns, a.FromEndPoint);
        });
        Assert.Equal(["b1", "b2", "b3"], attempts.Select(a => a.Backend!).Distinct().Order());
    }

    [SkippableFact]
    public async Task ATcpServiceDoesNotTranslateUdpToTheSameAddressAndPort()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Tcp(Dns.Address, 53, sandbox.Backends)));

        PeerAttempt udp = Assert.Single(await sandbox.UdpSendToAsync(Dns));

        Assert.False(udp.Ok, udp.ToString());
        Assert.Equal("ENETUNREACH", udp.Error);
    }
}
