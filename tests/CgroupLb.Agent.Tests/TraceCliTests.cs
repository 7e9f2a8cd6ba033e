using System.Text.Json;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>`cgroup-lb trace -o json` as an operator runs it, beside a running agent: one JSON object per event.</summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class TraceCliTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-trace-");

    [SkippableFact]
    public async Task TracePrintsATranslatedConnectAsJsonAndExitsAfterCount()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        var web = new WebManifest("web", WebManifest.Vip(41), [sandbox.Backend("b1").Address], SandboxBackend.TcpPort);
        web.WriteTo(Path.Combine(manifests.FullName, "web.yaml"));
        string[] run = ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1"];

        await using AgentProcess agent = AgentProcess.Start(run, log.Write);
        await agent.WaitReadyAsync();
        Task<CommandResult> trace = AgentCli.RunAsync("trace", "--bpffs", sandbox.BpffsPath, "--service", "default/web", "-o", "json", "--count", "1");
        // Connects made before the tracer switched tracing on are not traced: connect until it has seen one.
        var deadline = DateTime.UtcNow + SandboxTimeouts.Seconds(30);
        while (!trace.IsCompleted && DateTime.UtcNow < deadline)
        {
            await sandbox.ConnectAllAsync(web.Frontend, 1);
            await Task.WhenAny(trace, Task.Delay(200));
        }
        CommandResult result = (await trace).EnsureSuccess();

        string line = Assert.Single(result.StdoutLines());
        log.Write(line);
        using var json = JsonDocument.Parse(line);
        var e = json.RootElement;
        Assert.Equal("translated", e.GetProperty("verdict").GetString());
        Assert.Equal("connect4", e.GetProperty("hook").GetString());
        Assert.Equal("TCP", e.GetProperty("protocol").GetString());
        Assert.Equal(web.Frontend.ToString(), e.GetProperty("frontend").GetString());
        Assert.Equal(sandbox.Backend("b1").TcpEndPoint.ToString(), e.GetProperty("backend").GetString());
        Assert.StartsWith("default/web:", e.GetProperty("service").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(0u, e.GetProperty("pid").GetUInt32());
        Assert.Contains("tracing translations", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, await agent.TerminateAsync());
    }

    public void Dispose() => manifests.Delete(recursive: true);
}
