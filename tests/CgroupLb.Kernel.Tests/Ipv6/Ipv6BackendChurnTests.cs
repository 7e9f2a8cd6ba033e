using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>The writer's promise under load on lb6_services (see <see cref="BackendChurn"/>).</summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6BackendChurnTests(ITestOutputHelper output)
{
    private readonly TestOutputLog _log = new(output);

    [SkippableFact]
    public async Task ReplacingIpv6BackendSetsUnderAConnectLoopNeverFailsOrMisroutesAConnect()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 4, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);

        await BackendChurn.AssertNoFailedOrMisroutedConnectAsync(sandbox, datapath,
            web: new IPEndPoint(Vip6(0x20), 80), other: new IPEndPoint(Vip6(0x21), 80), Tcp6, seed: 20261128, _log.Write);
    }
}
