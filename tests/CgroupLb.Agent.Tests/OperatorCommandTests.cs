using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// What an operator runs against a live agent in the kernel sandbox: `doctor -o json` before and during a run (and on
/// a cgroup that does not exist), the kube-proxy-named metrics and the network programming latency from a real
/// scrape after an EndpointSlice edit stamped with endpoints.kubernetes.io/last-change-trigger-time, and
/// `status -o yaml`. Lean enough for the 5.10 guest: only required checks are asserted ok, optional ones by name.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class OperatorCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-operator-");

    private static readonly string[] RequiredChecks =
    [
        "cgroup v2 mount", "target cgroup", "bpffs", "libbpf", "cgroup sock_addr programs",
        "hook cgroup/connect4", "hook cgroup/sendmsg4", "hook cgroup/recvmsg4", "hook cgroup/getpeername4", "bpf_link for cgroups",
    ];

    private static readonly string[] ProbedFeatures =
    [
        "bpf_set_retval", "socket storage (BPF_MAP_TYPE_SK_STORAGE in sock_addr programs)", "netns cookie (bpf_get_netns_cookie)",
        "ring buffer (BPF_MAP_TYPE_RINGBUF)", "socket iterators and bpf_sock_destroy", "kernel BTF", "RLIMIT_MEMLOCK", "kernel release",
    ];

    [SkippableFact]
    public async Task DoctorMetricsAndStatusYamlFromALiveAgent()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: log.Write);
        string manifest = Path.Combine(manifests.FullName, "web.yaml");
        var web = new WebManifest("web", WebManifest.Vip(41), [sandbox.Backend("b1").Address], SandboxBackend.TcpPort);
        web.WriteTo(manifest);

        // Before any agent: everything required is there, nothing is pinned, and doctor left nothing behind.
        JsonObject before = await DoctorAsync(sandbox.CgroupPath, sandbox.BpffsPath, expectedExit: 0);
        Assert.True(before["healthy"]!.GetValue<bool>(), before.ToJsonString());
        foreach (string name in RequiredChecks)
            Assert.Equal("ok", Check(before, name)["status"]!.GetValue<string>());
        foreach (string name in ProbedFeatures)
            Assert.NotNull(Check(before, name)["status"]);
        Assert.Equal("free: no agent runs on it", Check(before, "pin directory lock")["detail"]!.GetValue<string>());
        Assert.Equal("no links pinned", Check(before, "attached programs")["detail"]!.GetValue<string>());
        Assert.False(Directory.Exists(sandbox.BpffsPath) && Directory.EnumerateFileSystemEntries(sandbox.BpffsPath).Any(), "doctor pinned something");
        Assert.Empty(Directory.GetDirectories(sandbox.CgroupPath, "cgroup-lb-doctor-*"));
        await sandbox.AssertNothingAttachedOrPinnedAsync();

        // A cgroup that does not exist: required check missing, exit 1, and still JSON.
        JsonObject broken = await DoctorAsync(sandbox.CgroupPath + "-absent", sandbox.BpffsPath, expectedExit: 1);
        Assert.False(broken["healthy"]!.GetValue<bool>());
        Assert.Equal("missing", Check(broken, "target cgroup")["status"]!.GetValue<string>());

        string[] run = ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1"];
        await using (AgentProcess agent = AgentProcess.Start(run, log.Write))
        {
            await agent.WaitReadyAsync();

            // The EndpointSlice controller stamps each slice update with the time of the change that caused it.
            var withB2 = web with { Endpoints = [sandbox.Backend("b1").Address, sandbox.Backend("b2").Address] };
            string stamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
            WebManifest.WriteText(manifest, withB2.ToYaml().Replace($"  name: {web.SliceName}\n",
                $"  name: {web.SliceName}\n  annotations:\n    endpoints.kubernetes.io/last-change-trigger-time: \"{stamp}\"\n", StringComparison.Ordinal));

            string metrics = await Eventually.MatchAsync(agent.MetricsAsync,
                m => m.Contains("\ncgroup_lb_network_programming_duration_seconds_count 1\n", StringComparison.Ordinal),
                "the slice edit's programming latency observed");
            // Written within the sync period of the edit: every observation is in the 30 s bucket already.
            Assert.Contains("\ncgroup_lb_network_programming_duration_seconds_bucket{le=\"30\"} 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("\ncgroup_lb_network_programming_duration_seconds_bucket{le=\"0.25\"} ", metrics, StringComparison.Ordinal);
            foreach (string name in new[]
            {
                "cgroup_lb_build_info{", "cgroup_lb_sync_proxy_rules_last_timestamp_seconds ", "cgroup_lb_sync_proxy_rules_service_changes_pending ",
                "cgroup_lb_sync_proxy_rules_endpoint_changes_pending ", "cgroup_lb_event_to_map_seconds_count ", "cgroup_lb_frontends ",
                "process_cpu_seconds_total ", "process_open_fds ", "dotnet_total_memory_bytes ",
            })
                Assert.Contains("\n" + name, metrics, StringComparison.Ordinal);
            Assert.DoesNotContain("cgroup_lb_service_translations_total", metrics, StringComparison.Ordinal); // opt-in
            double lastSync = double.Parse(metrics.Split('\n').Single(l => l.StartsWith("cgroup_lb_sync_proxy_rules_last_timestamp_seconds ", StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);
            Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - lastSync, -5, 120);

            // Doctor on the live agent's pins: who holds them and where the programs run; the agent keeps serving.
            JsonObject during = await DoctorAsync(sandbox.CgroupPath, sandbox.BpffsPath, expectedExit: 0);
            Assert.Contains($"PID {agent.Pid}", Check(during, "pin directory lock")["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains($"attached to {sandbox.CgroupPath}", Check(during, "attached programs")["detail"]!.GetValue<string>(), StringComparison.Ordinal);

            CommandResult yaml = (await AgentCli.RunAsync("status", "--bpffs", sandbox.BpffsPath, "-o", "yaml")).EnsureSuccess();
            Assert.Contains("frontends:\n  - id: ", yaml.Stdout, StringComparison.Ordinal);
            Assert.Contains($"      address: \"{web.ClusterIp}\"", yaml.Stdout, StringComparison.Ordinal);
            Assert.Contains("service: \"default/web", yaml.Stdout, StringComparison.Ordinal);

            Assert.Equal(0, await agent.TerminateAsync());
        }
        Assert.Empty(Directory.GetDirectories(sandbox.CgroupPath, "cgroup-lb-doctor-*"));
        (await AgentCli.RunAsync("detach", "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath)).EnsureSuccess();
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    private static async Task<JsonObject> DoctorAsync(string cgroup, string bpffs, int expectedExit)
    {
        CommandResult result = await AgentCli.RunAsync("doctor", "-o", "json", "--cgroup", cgroup, "--bpffs", bpffs);
        Assert.True(result.ExitCode == expectedExit, $"doctor exited {result.ExitCode}, expected {expectedExit}: {result.Stderr}{result.Stdout}");
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private static JsonObject Check(JsonObject report, string name) =>
        report["checks"]!.AsArray().Select(c => c!.AsObject()).SingleOrDefault(c => c["name"]!.GetValue<string>() == name)
            ?? throw new Xunit.Sdk.XunitException($"no check '{name}' in {report.ToJsonString()}");

    public void Dispose() => manifests.Delete(recursive: true);
}
