using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Writing;
using CgroupLb.Interop;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// The backend arrays (lb4_backends_v2, lb6_backends_v2) as the agent writes and reads them, through its shared mapping
/// (or by syscalls where the kernel will not map them), against what the kernel's own syscalls read: the same values, a freed id all zero, the array's first and last ids
/// usable, an id beyond it refused, and a reader that lists exactly the ids in use.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class BackendArrayTests(ITestOutputHelper output)
{
    private readonly TestOutputLog _log = new(output);

    /// <param name="mapped">
    /// False replaces the pinned arrays with arrays the kernel will not map (no BPF_F_MMAPABLE), so the same promises
    /// are checked on the syscall path a kernel refusing the mapping gets.
    /// </param>
    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task IdsWrittenByTheAgentAreWhatTheKernelHoldsAndFreedIdsReadAsFree(bool mapped)
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        const uint max = 4096;
        var options = sandbox.DatapathOptions() with { LbMapMax = max };
        using (LoadBalancerDatapath.Attach(options, _log))
        {
        }
        if (!mapped)
        {
            foreach (var (name, valueSize) in new[] { (MapNames.Backends, 8u), (MapNames.Backends6, 20u) })
            {
                File.Delete(options.MapPinPath(name));
                using var plain = BpfMapHandle.Create(BpfMapType.Array, name, 4, valueSize, max);
                plain.Pin(options.MapPinPath(name));
                Assert.Throws<BpfException>(() => plain.MapShared().Dispose());
            }
        }

        using var maps = new KernelLoadBalancerMaps(PinnedMaps.Open(options));
        Assert.Equal(max - 1, maps.BackendCapacity);
        uint[] ids = [1, 2, 700, max - 1];
        var values = ids.Select(id => Lb4Backend.Create(IPAddress.Parse($"198.18.{id / 250}.{id % 250 + 1}"), (ushort)(8000 + id), 6)).ToArray();
        var value6 = Lb6Backend.Create(IPAddress.Parse("2001:db8:18::7"), 8080, 17);
        maps.UpdateBackends(ids, values);
        maps.UpdateBackends6([3], [value6]);

        using (var kernel4 = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.Backends)))
        using (var kernel6 = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.Backends6)))
        {
            for (int i = 0; i < ids.Length; i++)
            {
                Assert.True(kernel4.TryLookup(in ids[i], out Lb4Backend held));
                Assert.Equal(values[i], held);
            }
            uint three = 3;
            Assert.True(kernel6.TryLookup(in three, out Lb6Backend held6));
            Assert.Equal(value6, held6);
        }
        Assert.Equal(ids, maps.ReadBackends().Select(e => e.Key));
        Assert.Equal(values, maps.ReadBackends().Select(e => e.Value));
        Assert.Equal([new KeyValuePair<uint, Lb6Backend>(3, value6)], maps.ReadBackends6());

        maps.DeleteBackends([2, max - 1]);
        maps.DeleteBackends6([3]);

        using (var kernel4 = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.Backends)))
        {
            uint freed = max - 1;
            Assert.True(kernel4.TryLookup(in freed, out Lb4Backend cleared));
            Assert.Equal(default, cleared);
        }
        Assert.Equal([1u, 700u], maps.ReadBackends().Select(e => e.Key));
        Assert.Empty(maps.ReadBackends6());
        var beyond = Assert.Throws<BpfException>(() => maps.UpdateBackends([max], [values[0]]));
        Assert.Equal(Errno.E2BIG, beyond.Errno);
        Assert.Contains(MapNames.Backends, beyond.Message, StringComparison.Ordinal);
        if (mapped)
            Assert.Throws<ArgumentOutOfRangeException>(() => maps.UpdateBackends([0], [values[0]]));
    }
}
