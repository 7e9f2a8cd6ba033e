using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// A plan large enough that the writer splits its backend and slot steps into chunks written by two threads at once
/// (and writes the names beside them) into the real maps: the maps then hold exactly what the writer recorded, and an
/// agent restarting on them adopts every frontend under its name.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class ParallelMapWriteTests(ITestOutputHelper output)
{
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task AStepSplitOverTwoThreadsLeavesTheMapsAsRecordedAndARestartAdoptsEveryFrontend()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: _log.Write);
        // 2100 x 10: 21000 backends and slots, more than one 16k chunk each; 2100 names, enough to go beside them.
        const int frontends = 2100;
        var services = Enumerable.Range(0, frontends).Select(i => new LoadBalancerService(
            new Frontend(IPAddress.Parse($"198.51.100.{1 + i / 1000}"), (ushort)(1000 + i % 1000), L4Protocol.Tcp),
            $"default/svc{i}:http", ServiceFlags.ClusterIp,
            [.. Enumerable.Range(10 * i, 10).Select(n => new Backend(IPAddress.Parse($"198.18.{n / 250}.{n % 250 + 1}"), 8080, L4Protocol.Tcp)).Order()]))
            .OrderBy(s => s.Frontend).ToArray();
        var options = sandbox.DatapathOptions() with { MapWriteThreads = 2 };

        using (LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(options, _log))
        {
            Assert.True(datapath.Writer.Apply(new LoadBalancerPlan([.. services], [])).AllApplied);
            Assert.True(datapath.Writer.VerifyApplied());
        }

        using LoadBalancerDatapath restarted = LoadBalancerDatapath.Attach(options, _log);
        var adopted = restarted.Writer.ReadApplied();
        Assert.Equal(frontends, adopted.Count);
        foreach (var s in services)
            Assert.Equal(s, adopted[s.Frontend]);
        Assert.True(restarted.Writer.VerifyApplied());
    }
}
