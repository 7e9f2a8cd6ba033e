using System.Net;
using System.Text.Json.Nodes;
using CgroupLb.Agent.Cli;
using CgroupLb.Agent.Tests.Harness;
using CgroupLb.Datapath.Status;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Spectre.Console;
using YamlDotNet.Serialization;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// The CLI's text outputs without a kernel: `-o yaml` says what `-o json` says, and `completion bash` works in a
/// plain bash (no bash-completion package) and completes commands, options and their fixed values.
/// </summary>
public sealed class CliOutputTests
{
    [Fact]
    public void YamlReadsBackAsTheSameDocumentAsTheJson()
    {
        const string json = """
            {"frontends":[{"id":7,"frontend":{"address":"10.96.0.1","port":80,"protocol":"TCP"},"service":"default/web:http",
              "backends":[{"slot":1,"address":"198.18.0.1"}],"counters":{"translated":3},"problems":["no","1e3: x"]}],
             "refused":[],"warnings":[],"maps":[{"name":"lb4_services_v2","fillRatio":0.25,"ok":true,"none":null}]}
            """;
        string yaml = YamlText.FromJson(json);
        object? parsed = new DeserializerBuilder().Build().Deserialize<object>(yaml);
        string roundTripped = new SerializerBuilder().JsonCompatible().Build().Serialize(parsed);
        // YAML 1.1 readers return every scalar as a string; compare the shapes and the text of every value.
        Assert.Equal(Normalize(JsonNode.Parse(json)), Normalize(JsonNode.Parse(roundTripped)));
        Assert.Contains("\n    problems:\n      - \"no\"\n", yaml, StringComparison.Ordinal);
        Assert.StartsWith("frontends:\n  - id: 7\n    frontend:\n      address: \"10.96.0.1\"\n", yaml, StringComparison.Ordinal);
        Assert.Contains("refused: []\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void StatusShowsTheAffinityTimeoutOfAffineFrontendsInTableAndJson()
    {
        FrontendStatus Frontend(int octet, ServiceFlags flags) =>
            new(new Frontend(IPAddress.Parse($"10.96.0.{octet}"), 80, L4Protocol.Tcp), (uint)octet, $"default/web{octet}:http", flags,
                [new BackendStatus(1, 1, new Backend(IPAddress.Parse("198.18.0.1"), 8080, L4Protocol.Tcp))], new ServiceCounters(0, 0, 0), [], null);
        var status = new DatapathStatus(
            [Frontend(1, ServiceFlags.ClusterIp | ServiceFlags.Affinity) with { AffinityTimeoutSeconds = 10800 }, Frontend(2, ServiceFlags.ClusterIp)],
            [], [], []);

        var frontends = JsonNode.Parse(StatusRenderer.ToJson(status))!["frontends"]!.AsArray();
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 160;
        StatusRenderer.WriteTable(status, console);

        Assert.Equal(10800, (int)frontends[0]!["affinityTimeoutSeconds"]!);
        Assert.False(frontends[1]!.AsObject().ContainsKey("affinityTimeoutSeconds"));
        Assert.Contains("Affinity", writer.ToString(), StringComparison.Ordinal);
        Assert.Single(writer.ToString().Split('\n'), l => l.Contains("ClientIP 10800s", StringComparison.Ordinal));
    }

    private static string Normalize(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Select(p => p.Key + ":" + Normalize(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Normalize)) + "]",
        null => "null",
        _ => node.ToString(),
    };

    [Theory]
    [InlineData("", "st", "status")]
    [InlineData("", "d", "detach doctor")]
    [InlineData("status", "--o", "--output")]
    [InlineData("status -o", "", "json table yaml")]
    [InlineData("run --log-format", "", "json text")]
    [InlineData("run --sync-period", "", "")]
    [InlineData("", "--v", "--version")]
    [InlineData("run", "--metrics-p", "--metrics-per-service")]
    [InlineData("status", "--se", "--service")]
    [InlineData("run", "--host-n", "--host-namespace-only")]
    [InlineData("run", "--exclude-n", "--exclude-netns")]
    [InlineData("completion", "", "bash zsh")]
    public async Task BashCompletionCompletesCommandsOptionsAndValues(string before, string current, string expected)
    {
        string script = (await AgentCli.RunAsync("completion", "bash")).EnsureSuccess().Stdout;
        string path = Path.Combine(Path.GetTempPath(), $"cglb-completion-{Guid.NewGuid():N}.bash");
        File.WriteAllText(path, script);
        try
        {
            string words = string.Join(" ", new[] { "cgroup-lb" }.Concat(before.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Append(current).Select(w => $"'{w}'"));
            string test = $"source '{path}' && COMP_WORDS=({words}) && COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) && _cgroup_lb && echo \"${{COMPREPLY[*]}}\"";
            CommandResult result = (await HostCommand.RunAsync("bash", ["--norc", "--noprofile", "-c", test], TimeSpan.FromSeconds(20))).EnsureSuccess();
            Assert.Equal(expected, result.Stdout.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ZshCompletionDefinesTheFunctionAndRegistersIt()
    {
        string script = (await AgentCli.RunAsync("completion", "zsh")).EnsureSuccess().Stdout;
        Assert.StartsWith("#compdef cgroup-lb\n", script, StringComparison.Ordinal);
        Assert.Contains("'doctor:", script, StringComparison.Ordinal);
        Assert.Contains("'(--output -o)--output[table, json or yaml]:value:(json table yaml)'", script, StringComparison.Ordinal);
        Assert.Contains("'--bpffs[bpffs directory holding the pinned maps and links]:path:_files'", script, StringComparison.Ordinal);
        Assert.Contains("compdef _cgroup_lb cgroup-lb", script, StringComparison.Ordinal);
        if (File.Exists("/usr/bin/zsh") || File.Exists("/bin/zsh"))
            (await HostCommand.RunAsync("zsh", ["-n", "-c", script], TimeSpan.FromSeconds(20))).EnsureSuccess();
    }
}
