using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Status;
using CgroupLb.Interop;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// Which network namespaces the programs serve (bpf/lib/netns_policy.h): host-namespace-only mode and lb_skip_netns.
/// Two "pods" share the sandbox cgroup: the client namespace and backend b3's namespace. The Service's only backend is
/// b3, which both reach when translated (b3 through its own address); untranslated, neither has a route to the VIP and
/// the connect fails with ENETUNREACH. The real host namespace never runs data-path traffic: a test that needs "the
/// host" names the client namespace so (DatapathOptions.HostNetnsCookie).
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class NetnsPolicyTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web = new(Vip(30), 80);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task HostNamespaceOnlyModeLeavesPodNamespacesUntouched()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        SandboxBackend b3 = sandbox.Backend("b3");
        ulong? clientCookie = CookieOf(sandbox.ClientNamespace);
        // Before 5.14 user space cannot read a cookie: the host is then init_net, and no sandbox namespace is it.
        _log.Write(clientCookie is null ? "no SO_NETNS_COOKIE: the host is init_net" : $"client namespace cookie {clientCookie} stands for the host");
        DatapathOptions hostOnly = sandbox.DatapathOptions() with { HostNamespaceOnly = true, HostNetnsCookie = clientCookie };

        using (LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(hostOnly, _log))
        {
            datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b3])));

            IReadOnlyList<PeerAttempt> fromHost = await sandbox.TcpConnectAsync(Web, count: 3);
            IReadOnlyList<PeerAttempt> fromPod = await sandbox.TcpConnectFromAsync(b3.Namespace, Web, count: 3);

            Assert.All(fromPod, a => Assert.Equal("ENETUNREACH", a.Error));
            if (clientCookie is null)
            {
                Assert.All(fromHost, a => Assert.Equal("ENETUNREACH", a.Error));
                Assert.Equal(0ul, Assert.Single(datapath.ReadStatus().Frontends).Counters.Translated);
            }
            else
            {
                Assert.All(fromHost, a =>
                {
                    Assert.True(a.Ok, a.ToString());
                    Assert.Equal("b3", a.Backend);
                    Assert.Equal(Web, a.PeerEndPoint);
                });
                // Only the host's connects count: an untouched socket is nobody's translation.
                Assert.Equal(3ul, Assert.Single(datapath.ReadStatus().Frontends).Counters.Translated);
            }
        }
        LoadBalancerDatapath.Detach(hostOnly, _log.CreateLogger("detach"));

        // The control: the same pod connect is translated when the mode is off.
        using LoadBalancerDatapath everyone = LoadBalancerDatapath.Attach(sandbox.DatapathOptions() with { HostNetnsCookie = clientCookie }, _log);
        everyone.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b3])));
        PeerAttempt pod = Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web));
        Assert.True(pod.Ok, pod.ToString());
        Assert.Equal("b3", pod.Backend);
    }

    [SkippableFact]
    public async Task AnExcludedNamespaceIsLeftAloneWhileAnotherIsTranslated()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        SandboxBackend b3 = sandbox.Backend("b3");
        string b3Path = "/run/netns/" + b3.Namespace;
        ulong? b3Cookie = CookieOf(b3.Namespace);
        if (b3Cookie is null)
        {
            // Before 5.14 the agent cannot name a namespace to the programs: it refuses the flag, clearly.
            var refused = Assert.Throws<DatapathException>(() => NetnsExclusion.CheckSupported([b3Path]));
            Assert.Contains("5.14", refused.Message);
            Assert.Contains(b3Path, refused.Message);
            return;
        }
        NetnsExclusion.CheckSupported([b3Path]);
        ulong clientCookie = CookieOf(sandbox.ClientNamespace)!.Value;
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions() with { NetnsExclusion = true }, _log);
        datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b3])));

        // The agent's resolution: paths to cookies, a path that does not exist left out.
        var exclusion = new NetnsExclusion([b3Path, $"/run/netns/{sandbox.Id}-gone"], NetnsExclusion.CookieOfPath, _log.CreateLogger("exclusion"));
        Assert.Equal([b3Cookie.Value], exclusion.Resolve());
        Assert.Equal((1, 0), datapath.SetExcludedNetns(exclusion.Resolve()));

        PeerAttempt client = Assert.Single(await sandbox.TcpConnectAsync(Web));
        PeerAttempt excluded = Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web));
        Assert.True(client.Ok, client.ToString());
        Assert.Equal("b3", client.Backend);
        Assert.Equal("ENETUNREACH", excluded.Error);

        // Swapped: the map follows the set, each namespace is judged alone.
        Assert.Equal((1, 1), datapath.SetExcludedNetns(new HashSet<ulong> { clientCookie }));
        PeerAttempt clientNow = Assert.Single(await sandbox.TcpConnectAsync(Web));
        PeerAttempt b3Now = Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web));
        Assert.Equal("ENETUNREACH", clientNow.Error);
        Assert.True(b3Now.Ok, b3Now.ToString());

        Assert.Equal((0, 1), datapath.SetExcludedNetns(new HashSet<ulong>()));
        Assert.True(Assert.Single(await sandbox.TcpConnectAsync(Web)).Ok);
    }

    /// <summary>
    /// The mode lives in .rodata, which the program tag does not cover: a restart with the mode switched must still
    /// swap the adopted programs (after the first full sync, as for any upgrade), not keep the old mode.
    /// </summary>
    [SkippableFact]
    public async Task ARestartWithTheModeSwitchedSwapsTheAdoptedPrograms()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        SandboxBackend b3 = sandbox.Backend("b3");
        DatapathOptions everyone = sandbox.DatapathOptions() with { HostNetnsCookie = CookieOf(sandbox.ClientNamespace) };
        using (LoadBalancerDatapath first = LoadBalancerDatapath.Attach(everyone, _log))
            first.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b3])));
        Assert.False(ProgramConfig.ReadPinned(everyone)!.HostNamespaceOnly);

        using LoadBalancerDatapath restarted = LoadBalancerDatapath.Attach(everyone with { HostNamespaceOnly = true }, _log);
        Assert.True(restarted.Adopted);
        Assert.True(restarted.HasPendingUpgrade, "a switched mode must be an upgrade");
        PeerAttempt beforeSwap = Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web));
        Assert.True(beforeSwap.Ok, beforeSwap.ToString());

        restarted.CompleteUpgrade(_log.CreateLogger("upgrade"));

        Assert.True(ProgramConfig.ReadPinned(everyone)!.HostNamespaceOnly);
        PeerAttempt afterSwap = Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web));
        Assert.Equal("ENETUNREACH", afterSwap.Error);
    }

    /// <summary>
    /// Exclusion is a load-time knob (enable_netns_exclusion): programs loaded without it never read lb_skip_netns, so a
    /// translated call skips that lookup. Shown by an entry left in the map: it excludes while the knob is on and is
    /// ignored once a restart without --exclude-netns swapped the programs; a restart with it on swaps them back.
    /// </summary>
    [SkippableFact]
    public async Task ExclusionIsALoadTimeKnobAndARestartThatSwitchesItSwapsThePrograms()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(log: _log.Write);
        SandboxBackend b3 = sandbox.Backend("b3");
        ulong? b3Cookie = CookieOf(b3.Namespace);
        if (b3Cookie is null)
        {
            // Before 5.14 no cookie can be named to the programs, so there is nothing to exclude; the flag is refused.
            Assert.Throws<DatapathException>(() => NetnsExclusion.CheckSupported(["/run/netns/" + b3.Namespace]));
            return;
        }
        DatapathOptions excluding = sandbox.DatapathOptions() with { NetnsExclusion = true };
        using (LoadBalancerDatapath first = LoadBalancerDatapath.Attach(excluding, _log))
        {
            first.Writer.Apply(Upsert(Tcp(Web.Address, 80, [b3])));
            Assert.Equal((1, 0), first.SetExcludedNetns(new HashSet<ulong> { b3Cookie.Value }));
            Assert.Equal("ENETUNREACH", Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web)).Error);
        }
        Assert.True(ProgramConfig.ReadPinned(excluding)!.NetnsExclusion);

        // Restarted without exclusion, and the entry deliberately left in the map.
        DatapathOptions plain = excluding with { NetnsExclusion = false };
        using (LoadBalancerDatapath restarted = LoadBalancerDatapath.Attach(plain, _log))
        {
            Assert.True(restarted.Adopted);
            Assert.True(restarted.HasPendingUpgrade, "a switched knob must be an upgrade");
            restarted.CompleteUpgrade(_log.CreateLogger("upgrade"));
            Assert.False(ProgramConfig.ReadPinned(plain)!.NetnsExclusion);

            PeerAttempt ignored = Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web));
            Assert.True(ignored.Ok, $"the programs read lb_skip_netns though loaded without exclusion: {ignored}");
            Assert.Equal("b3", ignored.Backend);

            // An exclusion these programs would ignore is refused, not written; the empty set clears the leftover.
            var refused = Assert.Throws<InvalidOperationException>(() => restarted.SetExcludedNetns(new HashSet<ulong> { b3Cookie.Value }));
            Assert.Contains("lb_skip_netns", refused.Message, StringComparison.Ordinal);
            Assert.Equal((0, 1), restarted.SetExcludedNetns(new HashSet<ulong>()));
        }

        // Restarted with exclusion again: the adopted programs serve until the swap, then the exclusion holds.
        using LoadBalancerDatapath again = LoadBalancerDatapath.Attach(excluding, _log);
        Assert.True(again.HasPendingUpgrade, "a switched knob must be an upgrade");
        Assert.Equal((1, 0), again.SetExcludedNetns(new HashSet<ulong> { b3Cookie.Value }));
        Assert.True(Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web)).Ok);
        again.CompleteUpgrade(_log.CreateLogger("upgrade"));
        Assert.Equal("ENETUNREACH", Assert.Single(await sandbox.TcpConnectFromAsync(b3.Namespace, Web)).Error);
    }

    private static ulong? CookieOf(string namespaceName)
    {
        using var netns = NetworkNamespace.Open("/run/netns/" + namespaceName);
        return netns.GetCookie();
    }
}
