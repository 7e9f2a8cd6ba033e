using System.Net;
using System.Net.Http;
using System.Text.Json;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// kube-proxy's two listeners: --healthz-bind-address serves /healthz (kube-proxy's JSON fields) and /readyz,
/// --metrics-bind-address serves /metrics, and neither answers the other's paths.
/// </summary>
[Collection(AgentKernelCollection.Name)]
[Trait("Category", AgentKernelCollection.Category)]
public sealed class ListenerTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestOutputLog log = new(output);
    private readonly DirectoryInfo manifests = Directory.CreateTempSubdirectory("cglb-agent-listeners-");
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [SkippableFact]
    public async Task HealthzAndMetricsAnswerOnTheirOwnListenersOnly()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 1, log: log.Write);
        new WebManifest("web", WebManifest.Vip(45), [sandbox.Backend("b1").Address], SandboxBackend.TcpPort)
            .WriteTo(Path.Combine(manifests.FullName, "web.yaml"));
        int healthzPort = FreePort.Next(), metricsPort = FreePort.Next();
        string healthz = $"http://127.0.0.1:{healthzPort}", metrics = $"http://127.0.0.1:{metricsPort}";

        await using AgentProcess agent = AgentProcess.StartWithOwnListeners(
            ["--source", manifests.FullName, "--cgroup", sandbox.CgroupPath, "--bpffs", sandbox.BpffsPath, "--node-name", "n1",
             "--healthz-bind-address", $"127.0.0.1:{healthzPort}", "--metrics-bind-address", $"127.0.0.1:{metricsPort}"], log.Write);
        await Eventually.MatchAsync(() => StatusOf(healthz + "/readyz"), s => s == HttpStatusCode.OK, "/readyz 200 on the healthz listener");

        using (HttpResponseMessage response = await http.GetAsync(healthz + "/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("ok", body.RootElement.GetProperty("status").GetString());
            DateTimeOffset lastUpdated = body.RootElement.GetProperty("lastUpdated").GetDateTimeOffset();
            DateTimeOffset currentTime = body.RootElement.GetProperty("currentTime").GetDateTimeOffset();
            Assert.True(lastUpdated <= currentTime, $"lastUpdated {lastUpdated:o} after currentTime {currentTime:o}");
            Assert.True(currentTime - lastUpdated < TimeSpan.FromMinutes(2), $"lastUpdated {lastUpdated:o} is not the recent first sync");
        }
        Assert.Contains("\ncgroup_lb_frontends 1\n", await http.GetStringAsync(metrics + "/metrics"), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, await StatusOf(healthz + "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOf(metrics + "/healthz"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOf(metrics + "/readyz"));

        Assert.Equal(0, await agent.TerminateAsync());
    }

    private async Task<HttpStatusCode?> StatusOf(string url)
    {
        try
        {
            using HttpResponseMessage response = await http.GetAsync(url);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        http.Dispose();
        manifests.Delete(recursive: true);
    }
}
