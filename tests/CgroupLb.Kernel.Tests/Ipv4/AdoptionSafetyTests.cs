using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// What adoption and the attachment watch guard against: a pinned map that only shares a name with this build's, an
/// adoption of this build's own programs (nothing to swap), and a cgroup recreated under the agent.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class AdoptionSafetyTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web = new(Vip(20), 80);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task APinnedMapWithAnotherCapacityIsRefusedWithItsNameAndNothingIsAttached()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        Directory.CreateDirectory(sandbox.BpffsPath);
        // Same name, type, key and value sizes as this build's lb4_backends_v2; another max_entries.
        using (var impostor = BpfMapHandle.Create(BpfMapType.Array, MapNames.Backends, 4, 8, 16))
            impostor.Pin(Path.Combine(sandbox.BpffsPath, MapNames.Backends));

        var ex = Assert.Throws<DatapathException>(() => LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log));

        Assert.Equal("adopt", ex.Phase);
        Assert.Contains($"map {MapNames.Backends}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("max_entries 16 (this build: ", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await CgroupAttachments.ListAsync(sandbox.CgroupPath));
        Assert.Equal([MapNames.Backends], Directory.EnumerateFiles(sandbox.BpffsPath).Select(Path.GetFileName));
    }

    [SkippableFact]
    public async Task LbMapMaxSizesTheServiceAndBackendMapsAndAnotherSizeIsRefusedOnAdoption()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        const uint max = 600_000; // 50k Services x (1 master + 10 slots) = 550k service entries
        using (LoadBalancerDatapath.Attach(sandbox.DatapathOptions() with { LbMapMax = max }, _log))
        {
            foreach (string name in new[] { MapNames.Services, MapNames.Backends, MapNames.Services6, MapNames.Backends6 })
            {
                using var pinned = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(name));
                Assert.Equal(max, pinned.Info.MaxEntries);
            }
            // The backend maps are arrays indexed by id: the writer's ids reach at most max - 1 (0 is "none").
            foreach (string name in new[] { MapNames.Backends, MapNames.Backends6 })
            {
                using var pinned = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(name));
                Assert.Equal(BpfMapType.Array, pinned.Info.Type);
            }
            using var stats = BpfMapHandle.OpenPinned(sandbox.DatapathOptions().MapPinPath(MapNames.ServiceStats));
            Assert.NotEqual(max, stats.Info.MaxEntries);
        }

        var ex = Assert.Throws<DatapathException>(() => LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log));
        Assert.Equal("adopt", ex.Phase);
        Assert.Contains($"max_entries {max} (this build: {DatapathOptions.DefaultServiceMapMax})", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// --preallocate-bpf-maps: the service maps and the names map, the hash maps a full sync writes, are created without
    /// BPF_F_NO_PREALLOC (the others keep it; the backend maps are arrays either way), a Service written into them is
    /// reached, and a restart with the other setting is refused, naming the flags.
    /// </summary>
    [SkippableFact]
    public async Task PreallocatedLbMapsServeConnectsAndTheOtherSettingIsRefusedOnAdoption()
    {
        KernelTestGate.Require();
        const uint noPrealloc = 1; // BPF_F_NO_PREALLOC
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write);
        var web = new IPEndPoint(SandboxServices.Vip(10), 80);
        var preallocated = sandbox.DatapathOptions() with { PreallocateLbMaps = true, LbMapMax = 4096 };
        using (LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(preallocated, _log))
        {
            foreach (string name in new[] { MapNames.Services, MapNames.Services6, MapNames.ServiceNames })
            {
                using var pinned = BpfMapHandle.OpenPinned(preallocated.MapPinPath(name));
                Assert.True((pinned.Info.MapFlags & noPrealloc) == 0, $"{name} flags 0x{pinned.Info.MapFlags:x}");
            }
            foreach (string name in new[] { MapNames.Refused, MapNames.Refused6, MapNames.NodeAddresses })
            {
                using var pinned = BpfMapHandle.OpenPinned(preallocated.MapPinPath(name));
                Assert.True((pinned.Info.MapFlags & noPrealloc) != 0, $"only the service and name maps are preallocated: {name} flags 0x{pinned.Info.MapFlags:x}");
            }

            datapath.Writer.Apply(SandboxServices.Upsert(SandboxServices.Tcp(web.Address, 80, sandbox.Backends)));
            IReadOnlyList<PeerAttempt> attempts = await sandbox.TcpConnectAsync(web, count: 40);
            Assert.All(attempts, a =>
            {
                Assert.True(a.Ok, a.ToString());
                Assert.Equal(web, a.PeerEndPoint);
            });
            Assert.Equal(["b1", "b2"], attempts.Select(a => a.Backend!).Distinct().Order());
        }

        var ex = Assert.Throws<DatapathException>(() => LoadBalancerDatapath.Attach(sandbox.DatapathOptions() with { LbMapMax = 4096 }, _log));
        Assert.Equal("adopt", ex.Phase);
        Assert.Contains("flags 0x", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--preallocate-bpf-maps", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task AdoptingThisBuildsOwnProgramsPlansNoSwap()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        IReadOnlyList<int> before;
        using (LoadBalancerDatapath first = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log))
        {
            Assert.False(first.HasPendingUpgrade);
            before = await CgroupAttachments.LinkIdsAsync(sandbox.CgroupPath);
        }

        using LoadBalancerDatapath second = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);

        Assert.True(second.Adopted);
        Assert.False(second.HasPendingUpgrade, "the same build's programs have the same tags and maps: nothing to swap");
        Assert.Equal(before, await CgroupAttachments.LinkIdsAsync(sandbox.CgroupPath));
    }

    /// <summary>
    /// From the hash backend maps of the previous ABI (lb4_backends, lb6_backends, keyed by ids anywhere in the u32 range)
    /// to the arrays: the adopted slots name ids no array holds, so every frontend reads back with holes while it keeps
    /// serving from its slots (which carry their backends); the next write rewrites it whole with ids inside the arrays,
    /// and completing the upgrade removes the old pins.
    /// </summary>
    [SkippableFact]
    public async Task MapsOfTheHashBackendAbiKeepServingAndTheNextWriteMovesThemToTheArrays()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: _log.Write);
        var options = sandbox.DatapathOptions();
        var web = Tcp(Web.Address, 80, sandbox.Backends);
        using (LoadBalancerDatapath first = LoadBalancerDatapath.Attach(options, _log))
            first.Writer.Apply(Upsert(web));

        // The previous ABI's state: its backends under the old names, none under the new ones, and an id beyond the
        // arrays in a slot (that agent drew ids from the whole u32 range).
        foreach (var (now, old) in new[] { (MapNames.Backends, "lb4_backends"), (MapNames.Backends6, "lb6_backends") })
            File.Move(options.MapPinPath(now), options.MapPinPath(old));
        var slot1 = Lb4ServiceKey.Create(Web.Address, 80, 6, 1);
        using (var services = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.Services)))
        {
            Assert.True(services.TryLookup(in slot1, out LbServiceValue value));
            value.BackendId = 4_000_000;
            services.Update(in slot1, value, BpfUpdateFlags.Exist);
        }

        using LoadBalancerDatapath second = LoadBalancerDatapath.Attach(options, _log);
        Assert.True(second.Adopted);
        Assert.True(second.HasPendingUpgrade, "the old backend maps are stale pins");
        Assert.Empty(second.Writer.ReadApplied()[web.Frontend].Backends); // every slot is a hole to the writer...
        IReadOnlyList<PeerAttempt> adopted = await sandbox.TcpConnectAsync(Web, count: 30);
        Assert.All(adopted, a => Assert.True(a.Ok, a.ToString())); // ...and a backend to the programs
        Assert.Equal(["b1", "b2"], adopted.Select(a => a.Backend!).Distinct().Order());

        second.Writer.Apply(Upsert(web));

        Assert.Equal(web, second.Writer.ReadApplied()[web.Frontend]);
        var status = second.ReadStatus(withCounters: false);
        Assert.Contains(status.Maps, m => m.Name == MapNames.Backends && m.Entries == 2);
        Assert.Empty(status.Warnings);
        using (var services = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.Services)))
        {
            Assert.True(services.TryLookup(in slot1, out LbServiceValue value));
            Assert.InRange(value.BackendId, 1u, DatapathOptions.DefaultBackendMapMax - 1);
        }
        IReadOnlyList<PeerAttempt> rewritten = await sandbox.TcpConnectAsync(Web, count: 30);
        Assert.All(rewritten, a => Assert.True(a.Ok, a.ToString()));
        Assert.Equal(["b1", "b2"], rewritten.Select(a => a.Backend!).Distinct().Order());

        second.CompleteUpgrade(_log.CreateLogger("upgrade"));
        Assert.False(File.Exists(options.MapPinPath("lb4_backends")));
        Assert.False(File.Exists(options.MapPinPath("lb6_backends")));
        Assert.True(File.Exists(options.MapPinPath(MapNames.Backends)));
    }

    [SkippableFact]
    public async Task HooksAnOlderAgentLackedAreAttachedWithoutDetachingTheAdoptedOnes()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        string[] ipv6Hooks = [ProgramCatalog.Connect6, ProgramCatalog.Sendmsg6, ProgramCatalog.Recvmsg6, ProgramCatalog.Getpeername6];
        IReadOnlyList<int> ipv4Links;
        using (LoadBalancerDatapath first = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log))
        {
            // What an IPv4-only agent left behind: the four IPv4 links pinned, no IPv6 hook attached.
            foreach (string hook in ipv6Hooks)
            {
                using var link = BpfLink.OpenPinned(Path.Combine(sandbox.DatapathOptions().LinksPath, hook));
                link.Detach();
                link.Unpin();
            }
            ipv4Links = await CgroupAttachments.LinkIdsAsync(sandbox.CgroupPath);
            Assert.Equal(4, ipv4Links.Count);
        }

        using LoadBalancerDatapath second = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);

        Assert.True(second.Adopted, "the pinned IPv4 links were adopted, not replaced");
        IReadOnlyList<int> after = await CgroupAttachments.LinkIdsAsync(sandbox.CgroupPath);
        Assert.Equal(ProgramCatalog.All.Count, after.Count);
        Assert.Subset(after.ToHashSet(), ipv4Links.ToHashSet());
        Assert.All(ProgramCatalog.All, p => Assert.True(File.Exists(Path.Combine(sandbox.DatapathOptions().LinksPath, p)), $"{p} pinned"));
    }

    [SkippableFact]
    public async Task ARecreatedCgroupGetsTheProgramsAttachedAgain()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, sandbox.Backends)));
        Assert.True(datapath.CheckAttachments(_log.CreateLogger("check")).Found.Count == 0);

        // No process lives in the sandbox cgroup between client runs, so it can be removed and made again.
        Directory.Delete(sandbox.CgroupPath);
        Directory.CreateDirectory(sandbox.CgroupPath);
        PeerAttempt untranslated = Assert.Single(await sandbox.TcpConnectAsync(Web));
        Assert.Equal("ENETUNREACH", untranslated.Error);

        AttachmentCheck check = datapath.CheckAttachments(_log.CreateLogger("check"));

        Assert.Equal(ProgramCatalog.All.Count, check.Found.Count);
        Assert.All(check.Found, p => Assert.Contains("is not attached to cgroup", p.Reason, StringComparison.Ordinal));
        Assert.Empty(check.Unrepaired);
        Assert.Empty(datapath.CheckAttachments(_log.CreateLogger("check")).Found);
        PeerAttempt after = Assert.Single(await sandbox.TcpConnectAsync(Web));
        Assert.True(after.Ok, after.ToString());
    }
}
