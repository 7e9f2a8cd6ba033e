using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// `cgroup-lb status` is read-only: run over and over while the agent grows and shrinks a backend set under a connect
/// loop (the moments when new backends have no slot yet and new slots lie beyond the master's count), it never costs
/// a connect, and entries planted by hand that no master reaches are still there afterwards.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class StatusDuringChurnTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web = new(Vip(22), 80);
    private static readonly TimeSpan LoopDuration = TimeSpan.FromSeconds(3);
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task StatusInALoopDuringBackendChurnFailsNoConnectAndDeletesNothing()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 3, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        SandboxBackend b1 = sandbox.Backend("b1"), b2 = sandbox.Backend("b2"), b3 = sandbox.Backend("b3");
        SandboxBackend[][] sets = [[b1], [b1, b2], [b1, b2, b3], [b2], [b2, b3], [b3], [b1, b3]];
        datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, sets[0])));

        // Planted by hand, reachable by nothing: a slot without a master and a backend no slot names.
        var plantedSlot = Lb4ServiceKey.Create(Vip(99), 80, 6, 1);
        uint plantedBackend = 100_000; // an index of the backend array the writer has not reached
        var plantedValue = Lb4Backend.Create(IPAddress.Parse("198.18.99.99"), 9, 6);
        using (var services = BpfMapHandle.OpenPinned(Path.Combine(sandbox.BpffsPath, MapNames.Services)))
            services.Update(in plantedSlot, LbServiceValue.Slot(60000, plantedBackend, new Backend(IPAddress.Parse("198.18.99.99"), 9, L4Protocol.Tcp)), BpfUpdateFlags.Any);
        using (var backendMap = BpfMapHandle.OpenPinned(Path.Combine(sandbox.BpffsPath, MapNames.Backends)))
            backendMap.Update(in plantedBackend, plantedValue, BpfUpdateFlags.Any);

        using var stop = new CancellationTokenSource();
        int statusReads = 0;
        Task statusLoop = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var view = LoadBalancerDatapath.OpenPinned(sandbox.BpffsPath);
                Assert.Throws<InvalidOperationException>(() => view.Writer);
                view.ReadStatus();
                statusReads++;
            }
        });

        Task<TcpLoopRun> loop = sandbox.TcpLoopAsync(Web, LoopDuration);
        int changes = 0;
        while (!loop.IsCompleted)
        {
            datapath.Writer.Apply(Upsert(Tcp(Web.Address, 80, sets[++changes % sets.Length])));
            await Task.Delay(2);
        }
        TcpLoopRun run = await loop;
        stop.Cancel();
        await statusLoop;

        _log.Write($"{changes} set changes, {statusReads} status reads; {run.Summary.Attempts} connects" +
                   (run.Summary.Failures > 0 ? "; errors: " + string.Join(", ", run.Summary.Errors) : ""));
        Assert.True(statusReads > 10, $"only {statusReads} status reads ran during the churn");
        Assert.True(changes > 50, $"only {changes} set changes ran during the loop");
        Assert.True(run.Summary.Attempts > 20, $"only {run.Summary.Attempts} connects ran during the churn");
        Assert.Equal(0, run.Summary.Failures);

        using (var services = BpfMapHandle.OpenPinned(Path.Combine(sandbox.BpffsPath, MapNames.Services)))
            Assert.True(services.TryLookup(in plantedSlot, out LbServiceValue _), "status deleted the planted slot");
        using (var backendMap = BpfMapHandle.OpenPinned(Path.Combine(sandbox.BpffsPath, MapNames.Backends)))
            Assert.True(backendMap.TryLookup(in plantedBackend, out Lb4Backend kept) && kept.Equals(plantedValue), "status cleared the planted backend");
        Assert.Contains(datapath.ReadStatus().Warnings, w => w.Contains("no master reaches"));
    }
}
