using System.Diagnostics;
using CgroupLb.Testing.Logging;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Interop.Tests;

[Collection(LibbpfCollection.Name)]
public sealed class BpfObjectTests(TestBpfObjectFixture fixture) : IClassFixture<TestBpfObjectFixture>
{
    private const uint Marker = 42;

    [SkippableFact]
    public void OpenFileExposesProgramsAndMapsBeforeLoad()
    {
        using var bpfObject = BpfObject.OpenFile(fixture.RequireObject());

        // libbpf names a file's object after its base name up to the first '.'.
        Assert.Equal("interop_test", bpfObject.Name);
        Assert.False(bpfObject.IsLoaded);
        Assert.Equal(["cglb_test_connect4", "cglb_test_rejected"], bpfObject.Programs.Select(p => p.Name));
        var connect = bpfObject.GetProgram("cglb_test_connect4");
        Assert.Equal("cgroup/connect4", connect.SectionName);
        Assert.Equal(BpfAttachType.CgroupInet4Connect, connect.ExpectedAttachType);
        Assert.Equal(BpfProgramType.CgroupSockAddr, connect.Type);
        Assert.True(connect.Autoload);
        Assert.Equal(-1, connect.Fd);

        var hits = bpfObject.GetMap("cglb_hits");
        Assert.Equal((BpfMapType.Hash, 4u, 4u, 16u), (hits.Type, hits.KeySize, hits.ValueSize, hits.MaxEntries));
        var rodata = Assert.Single(bpfObject.Maps, m => m.Name.EndsWith(".rodata", StringComparison.Ordinal));
        Assert.Equal(new byte[4], rodata.GetInitialValue());
        Assert.Throws<InvalidOperationException>(() => hits.GetInitialValue());
        Assert.Throws<InvalidOperationException>(() => hits.OpenHandle());

        var unknown = Assert.Throws<KeyNotFoundException>(() => bpfObject.GetMap("lb4_services"));
        Assert.Contains("lb4_services", unknown.Message);
        Assert.Contains("cglb_hits", unknown.Message);
    }

    [SkippableFact]
    public void OpenMemoryUsesTheGivenName()
    {
        var image = File.ReadAllBytes(fixture.RequireObject());

        using var bpfObject = BpfObject.OpenMemory(image, "cglb_in_memory");

        Assert.Equal("cglb_in_memory", bpfObject.Name);
        Assert.Equal(2, bpfObject.Programs.Count);
    }

    [SkippableFact]
    public void OpenMemoryRejectsNamesLibbpfWouldTruncate()
    {
        var image = File.ReadAllBytes(fixture.RequireObject());

        var exception = Assert.Throws<ArgumentException>(() => BpfObject.OpenMemory(image, "cglb_from_memory"));

        Assert.Contains("cglb_from_memory", exception.Message);
    }

    [SkippableFact]
    public void ChildrenFailCleanlyAfterTheObjectIsDisposed()
    {
        var bpfObject = BpfObject.OpenFile(fixture.RequireObject());
        var map = bpfObject.GetMap("cglb_hits");
        bpfObject.Dispose();

        Assert.Throws<ObjectDisposedException>(() => map.MaxEntries);
    }

    [SkippableFact]
    public void RejectedProgramThrowsAndItsVerifierLogReachesTheLogger()
    {
        var path = fixture.RequireObject();
        TestEnvironment.RequireRoot("loads BPF programs");
        var logger = new ListLogger();
        LibbpfLog.Install(logger);
        try
        {
            using var bpfObject = BpfObject.OpenFile(path);
            bpfObject.GetProgram("cglb_test_connect4").SetAutoload(false);

            var exception = Assert.Throws<BpfException>(bpfObject.Load);

            Assert.Equal("bpf_object__load", exception.Operation);
            Assert.Equal("interop_test", exception.ObjectName);
            Assert.False(bpfObject.IsLoaded);
            var log = string.Join('\n', logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message));
            Assert.Contains("cglb_test_rejected", log);
            Assert.Contains("-- BEGIN PROG LOAD LOG --", log);
            Assert.Contains("-- END PROG LOAD LOG --", log);
        }
        finally
        {
            LibbpfLog.Uninstall();
        }
    }

    [SkippableFact]
    public void ConfiguredProgramRunsInAChildCgroupAndItsPinnedLinkOutlivesTheObject()
    {
        var path = fixture.RequireObject();
        TestEnvironment.RequireRoot("loads BPF programs and attaches them to a child cgroup");
        using var cgroupFixture = new CgroupFixture("attach");
        using var bpffs = new BpffsFixture("attach");
        var linkPin = Path.Combine(bpffs.Path, "connect4_link");
        BpfMapHandle hits;

        using (var bpfObject = BpfObject.OpenFile(path))
        {
            bpfObject.GetProgram("cglb_test_rejected").SetAutoload(false);
            bpfObject.Maps.Single(m => m.Name.EndsWith(".rodata", StringComparison.Ordinal)).SetInitialValue(BitConverter.GetBytes(Marker));
            bpfObject.GetMap("cglb_hits").SetMaxEntries(32);
            bpfObject.Load();
            Assert.True(bpfObject.IsLoaded);
            Assert.Throws<BpfException>(() => bpfObject.GetMap("cglb_hits").SetMaxEntries(64));

            hits = bpfObject.GetMap("cglb_hits").OpenHandle();
            using var cgroup = CgroupDirectory.Open(cgroupFixture.Path);
            using var link = bpfObject.GetProgram("cglb_test_connect4").AttachCgroup(cgroup);
            Assert.True(link.Fd > 0);
            link.Pin(linkPin);
            Assert.Equal(linkPin, link.PinPath);
        }

        // The object and the link object are gone; the pinned link keeps the program attached.
        using (hits)
        {
            Assert.Equal(32u, hits.Info.MaxEntries);
            using (var cgroup = CgroupDirectory.Open(cgroupFixture.Path))
            {
                Assert.Single(cgroup.QueryAttachedPrograms(BpfAttachType.CgroupInet4Connect));
            }

            ConnectFromInsideTheCgroup(cgroupFixture.Path);

            Assert.True(hits.TryLookup(Marker, out uint count), "the connect4 program did not record the .rodata marker");
            Assert.Equal(1u, count);
        }

        using (var pinned = BpfLink.OpenPinned(linkPin))
        {
            pinned.Detach();
            pinned.Unpin();
        }

        using (var cgroup = CgroupDirectory.Open(cgroupFixture.Path))
        {
            Assert.Empty(cgroup.QueryAttachedPrograms(BpfAttachType.CgroupInet4Connect));
        }

        Assert.False(File.Exists(linkPin));
    }

    // Joins the cgroup, then a fresh network namespace with no routes, and connects to TEST-NET-1: connect4 runs
    // before routing, and the connect itself fails without sending anything.
    private static void ConnectFromInsideTheCgroup(string cgroupPath)
    {
        var script = $"echo $$ > {cgroupPath}/cgroup.procs && exec unshare --net bash -c 'exec 3<>/dev/tcp/192.0.2.1/80' 2>/dev/null; true";
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "the connecting process did not finish");
    }
}
