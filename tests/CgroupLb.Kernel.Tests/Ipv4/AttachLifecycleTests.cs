using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Testing.Sandbox;
using CgroupLb.Model.LoadBalancing;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>Attach, restart (adopt the pins) and detach, seen from a client: hitless restarts, clean detaches.</summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class AttachLifecycleTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web = new(Vip(10), 80);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task AfterDetachTheVipIsUnreachableAndNothingStaysAttachedOrPinned()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        using (LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log))
        {
            datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, sandbox.Backends)));
            PeerAttempt before = Assert.Single(await sandbox.TcpConnectAsync(Web));
            Assert.True(before.Ok, before.ToString());
            Assert.NotEmpty(await CgroupAttachments.ListAsync(sandbox.CgroupPath));
        }

        LoadBalancerDatapath.Detach(sandbox.DatapathOptions(), _log.CreateLogger("detach"));
        PeerAttempt after = Assert.Single(await sandbox.TcpConnectAsync(Web));

        Assert.False(after.Ok, after.ToString());
        Assert.Equal("ENETUNREACH", after.Error);
        Assert.Empty(await CgroupAttachments.ListAsync(sandbox.CgroupPath));
        Assert.Empty(await CgroupAttachments.LinkIdsAsync(sandbox.CgroupPath));
        Assert.True(!Directory.Exists(sandbox.BpffsPath) || !Directory.EnumerateFileSystemEntries(sandbox.BpffsPath, "*", SearchOption.AllDirectories).Any(),
            $"pins left under {sandbox.BpffsPath}");
    }

    [SkippableFact]
    public async Task ARestartedAgentAdoptsThePinnedDatapathAndTrafficNeverStops()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        LoadBalancerService web = Tcp(Web.Address, 80, sandbox.Backends);
        LoadBalancerService dns = Udp(Vip(53), 53, [sandbox.Backend("b1"), sandbox.Backend("b3")]);
        LoadBalancerService empty = Tcp(Vip(99), 443, []);
        using (LoadBalancerDatapath first = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log))
        {
            Assert.False(first.Adopted);
            first.Writer.Apply(Upsert(web, dns, empty));
        }

        // No agent runs now: the pinned links keep the programs attached and the pinned maps keep the services.
        IReadOnlyList<PeerAttempt> meanwhile = await sandbox.TcpConnectAsync(Web, count: 30);
        Assert.All(meanwhile, a => Assert.True(a.Ok, a.ToString()));

        using LoadBalancerDatapath second = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        IReadOnlyDictionary<Frontend, LoadBalancerService> applied = second.Writer.ReadApplied();
        IReadOnlyList<PeerAttempt> after = await sandbox.TcpConnectAsync(Web, count: 30);
        PeerAttempt udp = Assert.Single(await sandbox.UdpSendToAsync(new IPEndPoint(dns.Frontend.Address, 53)));

        Assert.True(second.Adopted);
        Assert.Equal(3, applied.Count);
        Assert.Equal(web, applied[web.Frontend]);
        Assert.Equal(dns, applied[dns.Frontend]);
        Assert.Equal(empty, applied[empty.Frontend]);
        Assert.All(after, a => Assert.True(a.Ok, a.ToString()));
        Assert.True(udp.Ok, udp.ToString());
        Assert.Contains(udp.Backend, new[] { "b1", "b3" });
        // Exactly one program per hook: adopting must not attach a second copy.
        IReadOnlyList<CgroupAttachments.Attachment> attached = await CgroupAttachments.ListAsync(sandbox.CgroupPath);
        Assert.Equal(attached.Count, attached.Select(a => a.AttachType).Distinct().Count());

        // The adopted writer keeps working: a change after the restart reaches the kernel.
        second.Writer.Apply(Upsert(Tcp(Web.Address, 80, [sandbox.Backend("b2")])));
        Assert.All(await sandbox.TcpConnectAsync(Web, count: 30), a => Assert.Equal("b2", a.Backend));
    }

    [SkippableFact]
    public async Task PinsAttachedToOneCgroupAreNotAdoptedForAnother()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        using (LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log))
        {
        }
        string other = sandbox.CgroupPath + "-other";
        Directory.CreateDirectory(other);
        try
        {
            var ex = Assert.Throws<DatapathException>(() => LoadBalancerDatapath.Attach(sandbox.DatapathOptions() with { CgroupPath = other }, _log));

            Assert.Equal("adopt", ex.Phase);
            Assert.Contains("attached to another cgroup", ex.Message);
            Assert.Empty(await CgroupAttachments.ListAsync(other));
            Assert.NotEmpty(await CgroupAttachments.ListAsync(sandbox.CgroupPath)); // the original stays as it was
        }
        finally
        {
            Directory.Delete(other);
        }
    }
}
