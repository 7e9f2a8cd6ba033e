using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>
/// Where IPv6 reverse entries live: with socket storage (the probe's <c>SocketStorage</c>, on from 5.11-ish kernels
/// that allow bpf_sk_storage_get in sock_addr programs) a TCP or connected UDP socket keeps its entry in
/// lb6_sk_frontend and lb6_reverse_sk stays empty, and an unconnected socket reaching a second backend puts only that
/// one in lb6_reverse_sk; without it (5.10) every entry is in lb6_reverse_sk. Either way getpeername and reply sources
/// show the frontend.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6SocketStorageTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web6 = new(Vip6(0x10), 80);
    private static readonly IPEndPoint DnsOnB1 = new(Vip6(0x53), 53);
    private static readonly IPEndPoint DnsOnB2 = new(Vip6(0x54), 53);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task Ipv6ReverseEntriesLiveInSocketStorageWhereTheKernelAllowsIt()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        bool storage = datapath.Features?.SocketStorage ?? throw new InvalidOperationException("a fresh attach must report whether socket storage loaded");
        datapath.Writer.Apply(Upsert(
            Tcp6(Web6.Address, 80, sandbox.Backends),
            Udp6(DnsOnB1.Address, 53, [sandbox.Backend("b1")]),
            Udp6(DnsOnB2.Address, 53, [sandbox.Backend("b2")])));

        IReadOnlyList<PeerAttempt> tcp = await sandbox.TcpConnectAsync(Web6, count: 5);
        IReadOnlyList<PeerAttempt> connected = await sandbox.UdpConnectedAsync(DnsOnB1, count: 3);

        Assert.All(tcp, a => { Assert.True(a.Ok, a.ToString()); Assert.Equal(Web6, a.PeerEndPoint); });
        Assert.All(connected, a => { Assert.True(a.Ok, a.ToString()); Assert.Equal(DnsOnB1, a.FromEndPoint); });
        int afterConnected = ReverseEntries(sandbox);
        _log.Write($"socket storage: {storage}; lb6_reverse_sk entries after 5 TCP and 3 connected UDP sockets: {afterConnected}");
        Assert.Equal(storage ? 0 : 8, afterConnected);

        // One unconnected socket, two frontends on two backends: the first backend's entry fits the socket's storage,
        // the second goes to lb6_reverse_sk, and each reply still comes from the frontend its request was sent to.
        IReadOnlyList<PeerAttempt> alternating = PeerAttempt.ParseLines(await sandbox.RunClientAsync(
            ["udp-alternate", "--to", DnsOnB1.ToString(), "--also", DnsOnB2.ToString(), "--count", "4"], ClientPlacement.InCgroup));

        Assert.Equal(4, alternating.Count);
        for (int i = 0; i < alternating.Count; i++)
        {
            Assert.True(alternating[i].Ok, alternating[i].ToString());
            Assert.Equal(i % 2 == 0 ? "b1" : "b2", alternating[i].Backend);
            Assert.Equal(i % 2 == 0 ? DnsOnB1 : DnsOnB2, alternating[i].FromEndPoint);
        }
        Assert.Equal(afterConnected + (storage ? 1 : 2), ReverseEntries(sandbox));
    }

    private static int ReverseEntries(KernelSandbox sandbox)
    {
        using var reverse = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(MapNames.ReverseSockets6));
        return reverse.Keys<Lb6ReverseSkKey>().Count();
    }
}
