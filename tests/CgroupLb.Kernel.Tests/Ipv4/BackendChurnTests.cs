using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>The writer's promise under load on lb4_services (see <see cref="BackendChurn"/>).</summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class BackendChurnTests(ITestOutputHelper output)
{
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task ReplacingBackendSetsUnderAConnectLoopNeverFailsOrMisroutesAConnect()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 4, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);

        await BackendChurn.AssertNoFailedOrMisroutedConnectAsync(sandbox, datapath,
            web: new IPEndPoint(Vip(20), 80), other: new IPEndPoint(Vip(21), 80), Tcp, seed: 20261127, _log.Write);
    }
}
