using System.Diagnostics;
using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Termination;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;
using CgroupLb.Testing.Sandbox;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Termination;

/// <summary>
/// AF_INET6 sockets the LB translated are closed when their backend leaves the Service: IPv6 ones (entries in
/// lb6_sk_frontend or lb6_reverse_sk) and v4-mapped ones that reached an IPv4 Service through an AF_INET6 socket
/// (entries in the IPv4 maps), by the bpf_sock_destroy iterators (Linux 6.5+) and by netlink SOCK_DESTROY, the
/// fallback before 6.5 (forced here on newer kernels). A connection straight to the backend's address is left alone.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6SocketTerminationTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web6 = new(Vip6(0x80), 80);
    private static readonly IPEndPoint Dns6 = new(Vip6(0x53), 53);
    private static readonly IPEndPoint Web4 = new(Vip(80), 80);
    private static readonly IPEndPoint Dns4 = new(Vip(53), 53);
    private static readonly TimeSpan Deadline = SandboxTimeouts.Seconds(1);
    private static readonly TimeSpan ClientsStart = SandboxTimeouts.Seconds(20);
    private static readonly SocketTerminationMethod Unforced =
        Environment.OSVersion.Version >= new Version(6, 5) ? SocketTerminationMethod.BpfIterator : SocketTerminationMethod.Netlink;
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public Task Ipv6TcpConnectionToARemovedBackendIsAborted() =>
        RemovalAsync(Family.Ipv6, L4Protocol.Tcp, forceNetlink: false);

    [SkippableFact]
    public Task Ipv6TcpConnectionToARemovedBackendIsAbortedByNetlinkWhenTheKfuncIsOff() =>
        RemovalAsync(Family.Ipv6, L4Protocol.Tcp, forceNetlink: true);

    [SkippableFact]
    public Task Ipv6ConnectedUdpToARemovedBackendIsClosedByNetlinkWhenTheKfuncIsOff() =>
        RemovalAsync(Family.Ipv6, L4Protocol.Udp, forceNetlink: true);

    [SkippableFact]
    public Task V4MappedTcpConnectionToARemovedIpv4BackendIsAborted() =>
        RemovalAsync(Family.V4Mapped, L4Protocol.Tcp, forceNetlink: false);

    [SkippableFact]
    public Task V4MappedConnectedUdpToARemovedIpv4BackendIsClosed() =>
        RemovalAsync(Family.V4Mapped, L4Protocol.Udp, forceNetlink: false);

    private enum Family
    {
        Ipv6,
        V4Mapped,
    }

    private async Task RemovalAsync(Family family, L4Protocol protocol, bool forceNetlink)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2");
        bool tcp = protocol == L4Protocol.Tcp;
        IPEndPoint vip = (family, tcp) switch
        {
            (Family.Ipv6, true) => Web6,
            (Family.Ipv6, false) => Dns6,
            (_, true) => Web4,
            _ => Dns4,
        };
        Func<SandboxBackend, LoadBalancerService> service = (family, tcp) switch
        {
            (Family.Ipv6, true) => b => Tcp6(vip.Address, (ushort)vip.Port, [b]),
            (Family.Ipv6, false) => b => Udp6(vip.Address, (ushort)vip.Port, [b]),
            (_, true) => b => Tcp(vip.Address, (ushort)vip.Port, [b]),
            _ => b => Udp(vip.Address, (ushort)vip.Port, [b]),
        };
        IPAddress b1Address = family == Family.Ipv6 ? b1.Address6 : b1.Address;
        ushort backendPort = tcp ? SandboxBackend.TcpPort : SandboxBackend.UdpPort;
        // The client names the Service as an AF_INET6 socket does: the IPv6 VIP, or the IPv4 one v4-mapped.
        IPEndPoint dialled = family == Family.Ipv6 ? vip : Mapped(vip);
        IPEndPoint direct = family == Family.Ipv6 ? new IPEndPoint(b1.Address6, backendPort) : Mapped(new IPEndPoint(b1.Address, backendPort));

        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(service(b1)));
        using SocketTerminator terminator = SocketTerminator.Open(
            new SocketTerminationOptions(sandbox.CgroupPath, sandbox.BpffsPath) { TerminateTcp = true, ForceNetlink = forceNetlink },
            ((ILoggerFactory)_log).CreateLogger("SocketTermination"));
        Assert.Equal(forceNetlink ? SocketTerminationMethod.Netlink : Unforced, terminator.Method);

        string command = tcp ? "tcp-hold" : "udp-hold";
        using HeldClient viaService = HeldClient.Start(sandbox, command, dialled.ToString());
        using HeldClient straight = HeldClient.Start(sandbox, command, direct.ToString());
        // TCP: the backend's name read; UDP: the first reply.
        await Task.WhenAll(viaService.WaitReadyAsync(ClientsStart), straight.WaitReadyAsync(ClientsStart));
        // TCP: the getpeername() after connect; UDP: that and the first reply's recvmsg().
        Assert.True(datapath.ReadStatus().Frontends.Single().Counters.ReverseTranslated >= (tcp ? 1UL : 2UL), "the held socket was not reverse-translated");

        long removedAt = Stopwatch.GetTimestamp();
        datapath.Writer.Apply(Upsert(service(b2)));
        SocketTerminationResult result = terminator.Terminate(
            [new RemovedBackend(new Frontend(vip.Address, (ushort)vip.Port, protocol), new Backend(b1Address, backendPort, protocol))]);
        long closedAt = Stopwatch.GetTimestamp();
        _log.Write($"terminate ({terminator.Method}): {result}");

        if (tcp)
            await viaService.WaitForAsync(run => run.SocketErrors.Any(), ClientsStart, "a socket error");
        else
        {
            await viaService.WaitForAsync(SocketTerminationTests.RebalancedAfterAnError, ClientsStart, "a socket error, a reply from b2 and three more replies after it");
            await straight.WaitForAsync(run => run.After(removedAt).Any(e => e.Backend == "b1"), ClientsStart, "a reply from b1 after the removal");
        }
        HoldRun held = await viaService.StopAsync(), untouched = await straight.StopAsync();
        _log.Write($"via the service:\n{held}\ndirect to b1:\n{untouched}");

        Assert.Equal(1, result.Closed);
        Assert.True(closedAt - removedAt < Deadline.Ticks * 100, $"{(closedAt - removedAt) / 1e6:0.0} ms to close; the bound is {Deadline.TotalMilliseconds} ms");
        Assert.Contains(held.Before(removedAt), e => e.Backend == "b1");
        HoldRun.Event closed = held.SocketErrors.First();
        Assert.True(closed.T >= removedAt, $"an error before the removal: {closed}");
        if (tcp)
        {
            Assert.Single(held.SocketErrors);
            Assert.Equal("ECONNABORTED", closed.Error);
        }
        else
        {
            // The next send finds the socket disconnected or the next receive reads the error the close left; the client
            // connects the same socket again and is balanced to what the Service holds now.
            Assert.Contains(closed.Error, new[] { "ECONNABORTED", "EDESTADDRREQ" });
            // connect() keeps the receive queue, so a reply b1 sent before the close may still be read after it (seen
            // in an emulated guest); once b2 has answered, b1 never does again.
            HoldRun.Event? rebalanced = held.After(closed.T).FirstOrDefault(e => e.Backend == "b2");
            Assert.True(rebalanced is not null, "no reply from b2 after the close");
            Assert.DoesNotContain(held.After(rebalanced.T), e => e.Backend == "b1");
        }
        Assert.Empty(untouched.SocketErrors);
        // tcp-hold reads the backend's name once, at the start; udp-hold keeps exchanging.
        Assert.Contains(tcp ? untouched.Replies : untouched.After(removedAt), e => e.Backend == "b1");
    }
}
