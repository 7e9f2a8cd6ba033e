using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Diagnostics;
using CgroupLb.Datapath.Loading;
using CgroupLb.Kernel.Tests.Ipv4;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Kernel.Tests.Diagnostics;

/// <summary>
/// Doctor probes with the loader's own code, so on every kernel (5.10 lacks bpf_set_retval and socket storage in
/// sock_addr programs, 6.x has both) it reports exactly the fallbacks `run` takes, and it leaves the sandbox's cgroup
/// and pin directory as it found them.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class DoctorProbeTests(ITestOutputHelper output)
{
    private readonly TestOutputLog log = new(output);

    [SkippableFact]
    public async Task DoctorReportsTheFeaturesTheLoaderUsesAndAttachesNothing()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);

        DoctorReport report = DatapathDoctor.Run(sandbox.DatapathOptions());
        foreach (var check in report.Checks)
            log.Write($"{check.Category}/{check.Name}: {check.Status} {check.Detail}");
        Assert.True(report.Healthy, string.Join("; ", report.Checks.Where(c => c.Fails).Select(c => $"{c.Name}: {c.Detail}")));
        Assert.Empty(await CgroupAttachments.ListAsync(sandbox.CgroupPath));
        Assert.Empty(Directory.GetDirectories(sandbox.CgroupPath));
        Assert.False(Directory.Exists(sandbox.BpffsPath) && Directory.EnumerateFileSystemEntries(sandbox.BpffsPath).Any(), "doctor pinned something");

        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), log);
        Assert.Equal(datapath.Features!.SetRetval == true ? DoctorStatus.Ok : DoctorStatus.Warning, Status(report, "bpf_set_retval"));
        Assert.Equal(datapath.Features.SocketStorage == true ? DoctorStatus.Ok : DoctorStatus.Warning,
            Status(report, "socket storage (BPF_MAP_TYPE_SK_STORAGE in sock_addr programs)"));
        if (datapath.Features.SocketStorage == true)
        {
            string claimsCheck = $"connected sockets' reverse entries in {MapNames.SocketClaims} and {MapNames.SocketClaims6}";
            if (EmbeddedObject.KernelBtfObjectSuits)
            {
                Assert.Equal(datapath.Features.RdonlyCast == true ? DoctorStatus.Ok : DoctorStatus.Warning, Status(report, "bpf_rdonly_cast kfunc"));
                Assert.Equal(datapath.Features.SocketClaims == true ? DoctorStatus.Ok : DoctorStatus.Info, Status(report, claimsCheck));
            }
            else
            {
                Assert.DoesNotContain(report.Checks, c => c.Name == "bpf_rdonly_cast kfunc" || c.Name == claimsCheck);
            }
            // A kernel that has the kfunc and its BTF must get the storage peek and the claims: a verifier refusal of that
            // code would otherwise only show as a silent fallback to the helper call and to socket storage.
            bool expected = Environment.OSVersion.Version >= new Version(6, 2) && KernelBtf.Present;
            Assert.True(expected == EmbeddedObject.KernelBtfObjectSuits,
                $"kernel {Environment.OSVersion.Version}, BTF {KernelBtf.Present}: expected the kernel's BTF {(expected ? "to name" : "not to name")} {KernelBtf.RdonlyCastKfunc}");
            Assert.True(expected == datapath.Features.RdonlyCast,
                $"kernel {Environment.OSVersion.Version}, BTF {KernelBtf.Present}: expected the rdonly_cast knob {(expected ? "on" : "off")}");
            Assert.True(expected == datapath.Features.SocketClaims,
                $"kernel {Environment.OSVersion.Version}, BTF {KernelBtf.Present}: expected connected sockets' reverse entries {(expected ? "in " + MapNames.SocketClaims : "in socket storage")}");
        }

        DoctorReport live = DatapathDoctor.Run(sandbox.DatapathOptions());
        Assert.Contains($"attached to {sandbox.CgroupPath}", live.Checks.Single(c => c.Name == "attached programs").Detail, StringComparison.Ordinal);
        Assert.StartsWith("free", live.Checks.Single(c => c.Name == "pin directory lock").Detail, StringComparison.Ordinal); // no lock taken here
        Assert.Equal("every network namespace in the cgroup (pods and host); no network namespace excluded (loaded without --exclude-netns: lb_skip_netns is not consulted)",
            live.Checks.Single(c => c.Name == "socket LB mode").Detail);
    }

    private static DoctorStatus Status(DoctorReport report, string name) => report.Checks.Single(c => c.Name == name).Status;
}
