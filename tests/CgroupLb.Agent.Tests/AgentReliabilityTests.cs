using System.Net;
using System.Net.Http;
using System.Text.Json;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// The agent against faults an operator's worst day brings, in the kernel sandbox: a second agent on the same
/// --bpffs, a program detached behind the agent's back, and adopting the programs of an older ABI.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class AgentReliabilityTests(ITestOutputHelper output) : IDisposable
{
    private const string ConnectLink = "links/cglb_sock4_connect";
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-reliability-");
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [SkippableFact]
    public async Task ASecondAgentOnTheSameBpffsExits1NamingTheHolderAndTheFirstKeepsServing()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        var web = WriteWeb(sandbox, 50);

        await using AgentProcess first = AgentProcess.Start(RunArguments(sandbox), log.Write);
        await first.WaitReadyAsync();

        CommandResult second = await AgentCli.RunAsync(["run", .. RunArguments(sandbox), "--lock-timeout", "1s", "--healthz-bind-address", "none", "--metrics-bind-address", "none"]);
        Assert.Equal(1, second.ExitCode);
        string error = Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cgroup-lb: error: another agent owns " + sandbox.BpffsPath, error, StringComparison.Ordinal);
        Assert.Contains($"PID {first.Pid}", error, StringComparison.Ordinal);

        // From another PID namespace (another pod) the holder's PID cannot be seen: the message says so instead.
        IReadOnlyList<string> agentCommand = AgentBinary.Command(["run", .. RunArguments(sandbox), "--lock-timeout", "1s", "--healthz-bind-address", "none", "--metrics-bind-address", "none"]);
        CommandResult fromPod = await HostCommand.RunAsync("unshare", ["--pid", "--fork", "--mount-proc", .. agentCommand], HostCommand.DefaultTimeout);
        Assert.Equal(1, fromPod.ExitCode);
        Assert.Contains("locked by a process in another PID namespace", fromPod.Stderr, StringComparison.Ordinal);

        // detach refuses under a live agent, and says who holds the directory.
        CommandResult detach = await AgentCli.RunAsync("detach", "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath);
        Assert.Equal(1, detach.ExitCode);
        Assert.Contains($"an agent is running on {sandbox.BpffsPath}", detach.Stderr, StringComparison.Ordinal);

        Assert.False(first.HasExited);
        Assert.Equal(["b1", "b1", "b1"], await sandbox.ConnectAllAsync(web.Frontend, 3));
        Assert.Equal(HttpStatusCode.OK, await first.ReadyzAsync());
        Assert.Equal(0, await first.TerminateAsync());

        // The lock went with the process: a new agent takes the directory at once.
        await using AgentProcess next = AgentProcess.Start(RunArguments(sandbox), log.Write);
        await next.WaitReadyAsync();
        Assert.Equal(0, await next.TerminateAsync());
        await DetachAsync(sandbox);
    }

    [SkippableFact]
    public async Task AProgramDetachedByHandFailsHealthzUntilTheAgentAttachesItAgain()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        var web = WriteWeb(sandbox, 51);
        string pin = Path.Combine(sandbox.BpffsPath, ConnectLink);

        await using AgentProcess agent = AgentProcess.Start(RunArguments(sandbox), log.Write);
        await agent.WaitReadyAsync();
        var healthy = await HealthzAsync(agent);
        Assert.Equal(HttpStatusCode.OK, healthy.Status);
        Assert.Equal("ok", healthy.State);

        // Removing the only pin of a link the agent does not hold destroys it: connect4 is detached. A directory in
        // its place keeps the agent from pinning a new link, so the broken state lasts until it is removed.
        BlockPin(pin);
        var broken = await Eventually.MatchAsync(() => HealthzAsync(agent), h => h.Status == HttpStatusCode.ServiceUnavailable, "/healthz 503");
        Assert.Equal("unhealthy", broken.State);
        Assert.Contains("cglb_sock4_connect", broken.Body, StringComparison.Ordinal);
        Assert.Contains("re-attaching failed", broken.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await agent.ReadyzAsync());
        await sandbox.AssertUnreachableAsync(web.Frontend);

        Directory.Delete(pin);
        await Eventually.MatchAsync(() => HealthzAsync(agent), h => h.Status == HttpStatusCode.OK, "/healthz 200 again");
        await agent.WaitForLogAsync(l => l.Contains("Re-attached cglb_sock4_connect", StringComparison.Ordinal), "the re-attach");
        Assert.Equal(HttpStatusCode.OK, await agent.ReadyzAsync());
        Assert.Equal(["b1", "b1", "b1"], await sandbox.ConnectAllAsync(web.Frontend, 3));
        Assert.True(File.Exists(pin), "the new link is pinned where the old one was");

        // A plain removal is repaired without anyone's help.
        File.Delete(pin);
        await Eventually.MatchAsync(() => Task.FromResult(File.Exists(pin)), pinned => pinned, "the link pinned again");
        Assert.Equal(["b1", "b1", "b1"], await sandbox.ConnectAllAsync(web.Frontend, 3));

        Assert.Equal(0, await agent.TerminateAsync());
        await DetachAsync(sandbox);
    }

    [SkippableFact]
    public async Task AdoptingProgramsOfAnOlderAbiSwapsTheLinksInPlaceWithoutAFailedConnect()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 2, log: log.Write);
        var web = WriteWeb(sandbox, 52);

        await using (AgentProcess old = AgentProcess.Start(RunArguments(sandbox), log.Write))
        {
            await old.WaitReadyAsync();
            Assert.Equal(0, await old.TerminateAsync());
        }

        // An older ABI: the pinned programs use maps whose names this build does not have (lb_abi.h renames a map
        // whose layout changes). Renaming the pins makes exactly that state: the programs keep their maps.
        string[] mapPins = [.. Directory.EnumerateFiles(sandbox.BpffsPath).Select(Path.GetFileName).Order()!];
        Assert.NotEmpty(mapPins);
        foreach (string map in mapPins)
            File.Move(Path.Combine(sandbox.BpffsPath, map), Path.Combine(sandbox.BpffsPath, "old_" + map));
        var before = await LinkAsync(Path.Combine(sandbox.BpffsPath, ConnectLink));
        Assert.Equal(["b1", "b2"], (await sandbox.ConnectAllAsync(web.Frontend, 20)).Distinct().Order());

        Task<TcpLoopRun> loop = sandbox.TcpLoopAsync(web.Frontend, TimeSpan.FromSeconds(20));
        await Task.Delay(1000);
        await using (AgentProcess upgraded = AgentProcess.Start(RunArguments(sandbox), log.Write))
        {
            await upgraded.WaitForLogAsync(l => l.Contains("Upgraded cglb_sock4_connect in place", StringComparison.Ordinal), "the link swap");
            Assert.False(loop.IsCompleted, "the connect loop ended before the swap; it must span it");
            TcpLoopRun run = await loop;
            await upgraded.WaitReadyAsync();
            Assert.True(run.Summary.Failures == 0, $"{run.Summary.Failures} of {run.Summary.Attempts} connects failed during the upgrade: {string.Join(", ", run.Summary.Errors)}");
            Assert.True(run.Summary.Attempts > 50, $"only {run.Summary.Attempts} connects");

            var after = await LinkAsync(Path.Combine(sandbox.BpffsPath, ConnectLink));
            Assert.Equal(before.Id, after.Id);
            Assert.NotEqual(before.ProgramId, after.ProgramId);
            Assert.Equal(mapPins, Directory.EnumerateFiles(sandbox.BpffsPath).Select(Path.GetFileName).Order());
            Assert.Equal(["b1", "b2"], (await sandbox.ConnectAllAsync(web.Frontend, 20)).Distinct().Order());
            Assert.Equal(0, await upgraded.TerminateAsync());
        }

        // The same build adopting its own programs swaps nothing.
        await using (AgentProcess again = AgentProcess.Start(RunArguments(sandbox), log.Write))
        {
            await again.WaitReadyAsync();
            Assert.Equal(0, await again.TerminateAsync());
            Assert.DoesNotContain(again.Stdout, l => l.Contains("Upgraded", StringComparison.Ordinal));
        }
        await DetachAsync(sandbox);
    }

    [SkippableFact]
    public async Task AMapEntryDeletedBehindTheAgentsBackIsRepairedWithinTheSyncPeriod()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        var web = WriteWeb(sandbox, 53);
        await using AgentProcess agent = AgentProcess.Start([.. RunArguments(sandbox), "--sync-period", "2s", "--map-check-period", "0s"], log.Write);
        await agent.WaitReadyAsync();
        Assert.Equal(["b1"], await sandbox.ConnectAllAsync(web.Frontend, 1));

        // The master entry (slot 0) of 198.51.100.53:80/TCP, as lb_abi.h lays out struct lb4_service_key:
        // address and port in network order, slot 0, proto 6, scope 0, two bytes of padding.
        string services = Directory.EnumerateFiles(sandbox.BpffsPath, "lb4_services*").Single();
        string[] key = ["c6", "33", "64", "35", "00", "50", "00", "00", "06", "00", "00", "00"];
        (await HostCommand.RunAsync("bpftool", ["map", "delete", "pinned", services, "key", "hex", .. key], HostCommand.DefaultTimeout)).EnsureSuccess();

        // Nothing else changes, so a full sync that writes anything is the repair (periodic syncs that find the maps
        // right write and log nothing).
        string repair = await agent.WaitForLogAsync(l => l.Contains("Maps updated (Full)", StringComparison.Ordinal), "the repairing full sync",
            TimeSpan.FromSeconds(20));
        Assert.Contains("1 frontends written", repair, StringComparison.Ordinal);
        Assert.NotNull((await AgentCli.StatusAsync(sandbox.BpffsPath)).Find(web.Frontend));
        Assert.Equal(["b1", "b1", "b1"], await sandbox.ConnectAllAsync(web.Frontend, 3));
        Assert.Equal(0, await agent.TerminateAsync());
        await DetachAsync(sandbox);
    }

    /// <summary>Removes the link pin and puts a directory in its place, retrying if the agent re-pinned in between.</summary>
    private static void BlockPin(string pin)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (File.Exists(pin))
                File.Delete(pin);
            try
            {
                Directory.CreateDirectory(pin);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
            }
        }
    }

    private WebManifest WriteWeb(KernelSandbox sandbox, int vip)
    {
        var web = new WebManifest("web", WebManifest.Vip(vip), [.. sandbox.Backends.Select(b => b.Address)], SandboxBackend.TcpPort);
        web.WriteTo(Path.Combine(manifests.FullName, "web.yaml"));
        return web;
    }

    private string[] RunArguments(KernelSandbox sandbox) =>
        ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1"];

    private async Task<(HttpStatusCode Status, string State, string Body)> HealthzAsync(AgentProcess agent)
    {
        using HttpResponseMessage response = await http.GetAsync($"http://127.0.0.1:{agent.HealthPort}/healthz");
        string body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        return (response.StatusCode, json.RootElement.GetProperty("status").GetString()!, body);
    }

    private static async Task<(uint Id, uint ProgramId)> LinkAsync(string pin)
    {
        CommandResult result = (await HostCommand.RunAsync("bpftool", ["link", "show", "pinned", pin, "-j"], HostCommand.DefaultTimeout)).EnsureSuccess();
        using var json = JsonDocument.Parse(result.Stdout);
        return (json.RootElement.GetProperty("id").GetUInt32(), json.RootElement.GetProperty("prog_id").GetUInt32());
    }

    private static async Task DetachAsync(KernelSandbox sandbox)
    {
        CommandResult detach = await AgentCli.RunAsync("detach", "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath);
        Assert.True(detach.ExitCode == 0, $"detach: {detach.Stderr}{detach.Stdout}");
        await sandbox.AssertNothingAttachedOrPinnedAsync();
    }

    public void Dispose()
    {
        http.Dispose();
        manifests.Delete(recursive: true);
    }
}
