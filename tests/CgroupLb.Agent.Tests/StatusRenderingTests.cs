using System.Net;
using System.Text.Json;
using CgroupLb.Agent.Cli;
using CgroupLb.Datapath.Status;
using CgroupLb.Model.LoadBalancing;
using Spectre.Console;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// `cgroup-lb status` without a kernel: every frontend kind (a NodePort as its wildcard), affinity and policy flags in
/// the table, `-o json` and `-o yaml`, and `--service NAMESPACE/NAME` keeping exactly that Service's frontends.
/// </summary>
public sealed class StatusRenderingTests
{
    private static readonly ServiceCounters None = new(0, 0, 0);

    private static FrontendStatus Frontend(uint id, string address, ushort port, string name, ServiceFlags flags) =>
        new(new Frontend(IPAddress.Parse(address), port, L4Protocol.Tcp), id, name, flags,
            [new BackendStatus(1, id * 10, new Backend(IPAddress.Parse("198.18.0.1"), 8080, L4Protocol.Tcp))], None, [], null);

    private static readonly DatapathStatus Sample = new(
        [
            Frontend(1, "198.51.100.10", 80, "default/web:http", ServiceFlags.ClusterIp),
            Frontend(2, "0.0.0.0", 30080, "default/web:http", ServiceFlags.NodePort),
            Frontend(3, "::", 30080, "default/web:http", ServiceFlags.NodePort),
            Frontend(4, "203.0.113.7", 80, "default/web:http", ServiceFlags.ExternalIp | ServiceFlags.Affinity),
            Frontend(5, "203.0.113.8", 443, "shop/web:https", ServiceFlags.LoadBalancer | ServiceFlags.LocalOnly | ServiceFlags.HostOnly),
            Frontend(6, "198.51.100.11", 80, "default/webby:http", ServiceFlags.ClusterIp | ServiceFlags.LocalOnly),
        ],
        [new MapUsage("lb4_services_v2", 12, 262144)],
        [
            new RefusedFrontendStatus(new Frontend(IPAddress.Parse("198.51.100.12"), 80, L4Protocol.Tcp), "default/web:alt", "service_map_full", false, 3, 0, "full"),
            new RefusedFrontendStatus(new Frontend(IPAddress.Parse("198.51.100.13"), 80, L4Protocol.Tcp), "other/web:http", "service_map_full", false, 3, 0, "full"),
        ],
        []);

    [Fact]
    public void TheTableShowsKindAffinityAndFlagsOfEveryFrontend()
    {
        var lines = RenderTable(Sample).Split('\n');

        string Row(string frontend) => Assert.Single(lines, l => l.Contains(frontend, StringComparison.Ordinal));
        Assert.Contains("Kind", lines[1] + lines[0] + lines[2]);
        Assert.Matches(@"198\.51\.100\.10:80/TCP\s+ClusterIP\s+default/web:http\s+-\s+-\s", Row("198.51.100.10:80/TCP"));
        // Both families' NodePort wildcards read the same; the JSON keeps the family apart.
        Assert.Equal(2, lines.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\*:30080/TCP\s+NodePort\s+default/web:http")));
        Assert.Matches(@"203\.0\.113\.7:80/TCP\s+ExternalIP\s+default/web:http\s+ClientIP\s+-\s", Row("203.0.113.7:80/TCP"));
        Assert.Matches(@"203\.0\.113\.8:443/TCP\s+LoadBalancer\s+shop/web:https\s+-\s+LocalOnly, HostOnly\s", Row("203.0.113.8:443/TCP"));
    }

    [Fact]
    public void JsonAndYamlCarryKindAffinityAndFlags()
    {
        using var doc = JsonDocument.Parse(StatusRenderer.ToJson(Sample));
        var frontends = doc.RootElement.GetProperty("frontends").EnumerateArray().ToList();

        Assert.Equal(["ClusterIP", "NodePort", "NodePort", "ExternalIP", "LoadBalancer", "ClusterIP"],
            frontends.Select(f => f.GetProperty("kind").GetString()));
        Assert.Equal(["None", "None", "None", "ClientIP", "None", "None"], frontends.Select(f => f.GetProperty("affinity").GetString()));
        Assert.Equal(["LocalOnly", "HostOnly"], frontends[4].GetProperty("flags").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(frontends[0].GetProperty("flags").EnumerateArray());
        Assert.Equal("0.0.0.0", frontends[1].GetProperty("frontend").GetProperty("address").GetString());
        Assert.Equal("IPv6", frontends[2].GetProperty("frontend").GetProperty("family").GetString());

        string yaml = YamlText.FromJson(StatusRenderer.ToJson(Sample));
        Assert.Contains("    kind: \"NodePort\"\n", yaml, StringComparison.Ordinal);
        Assert.Contains("    affinity: \"ClientIP\"\n", yaml, StringComparison.Ordinal);
        Assert.Contains("    flags:\n      - \"LocalOnly\"\n      - \"HostOnly\"\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void ServiceFilterKeepsExactlyThatServicesFrontendsAndRefusals()
    {
        Assert.True(StatusFilter.TryParseService("default/web", out var web, out _));

        var filtered = StatusFilter.ForService(Sample, web);

        // Every port and kind of default/web; not default/webby (a longer name), not shop/web (another namespace).
        Assert.Equal([1u, 2u, 3u, 4u], filtered.Frontends.Select(f => f.ServiceId));
        Assert.Equal("default/web:alt", Assert.Single(filtered.Refused).Name);
        Assert.Equal(Sample.Maps, filtered.Maps);
        Assert.Empty(StatusFilter.ForService(Sample, new CgroupLb.Model.Kubernetes.ServiceName("default", "we")).Frontends);
    }

    [Theory]
    [InlineData("default/web:http")]
    [InlineData("web")]
    [InlineData("/web")]
    [InlineData("default/")]
    [InlineData("a/b/c")]
    public void ServiceFilterRefusesAnythingButNamespaceSlashName(string text)
    {
        Assert.False(StatusFilter.TryParseService(text, out _, out string? error));
        Assert.Contains("NAMESPACE/NAME", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusRefusesAServiceFlagThatIsNotNamespaceSlashNameBeforeReadingAnything()
    {
        var result = await CgroupLb.Agent.Tests.Harness.AgentCli.RunAsync("status", "--bpffs", "/nonexistent/cglb", "--service", "default/web:http");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--service: 'default/web:http' is not NAMESPACE/NAME", result.Stderr, StringComparison.Ordinal);
    }

    private static string RenderTable(DatapathStatus status)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 220;
        StatusRenderer.WriteTable(status, console);
        return writer.ToString();
    }
}
