using System.CommandLine;
using System.CommandLine.Invocation;
using CgroupLb.Agent.Cli;
using CgroupLb.Agent.Hosting;
using CgroupLb.Datapath.Loading;
using Microsoft.Extensions.Logging;
using Spectre.Console;

var bpffs = new Option<string>("--bpffs")
{
    Description = "bpffs directory holding the pinned maps and links",
    DefaultValueFactory = _ => DatapathOptions.DefaultBpffsPath,
};
var cgroup = new Option<string>("--cgroup")
{
    Description = "cgroup v2 directory whose sockets are load-balanced (default: the root of the cgroup v2 hierarchy)",
};

// run
var source = new Option<string?>("--source") { Description = "file or directory of Kubernetes manifests (Service, EndpointSlice, Node); watched for edits" };
var kubeconfig = new Option<string?>("--kubeconfig") { Description = "kubeconfig for the Kubernetes API; without it and without --source, in-cluster config is used" };
var nodeName = new Option<string?>("--node-name") { Description = "this node's name, for internalTrafficPolicy: Local (default: $NODE_NAME or the host name)" };
var detachOnExit = new Option<bool>("--detach-on-exit") { Description = "remove programs and pins on exit (default: leave them, traffic keeps flowing)" };
var healthAddress = new Option<string>("--health-address")
{
    Description = "host:port serving /healthz, /readyz and /metrics, or 'none'",
    DefaultValueFactory = _ => "127.0.0.1:9963",
};
var logFormat = new Option<string>("--log-format") { Description = "text or json", DefaultValueFactory = _ => "text" };
logFormat.AcceptOnlyFromAmong("text", "json");
var logLevel = new Option<LogLevel>("--log-level") { Description = "Trace, Debug, Information, Warning, Error", DefaultValueFactory = _ => LogLevel.Information };

var run = new Command("run", "Load (or adopt) the programs, attach them to the cgroup and keep the maps in sync until SIGINT/SIGTERM")
{
    source, kubeconfig, cgroup, bpffs, nodeName, detachOnExit, healthAddress, logFormat, logLevel,
};
run.Validators.Add(r =>
{
    if (r.GetValue(source) is not null && r.GetValue(kubeconfig) is not null)
        r.AddError("--source and --kubeconfig are exclusive: read manifests or follow the API, not both");
});
run.SetAction((r, ct) => CliErrors.Run(() => AgentHost.RunAsync(new RunOptions
{
    SourcePath = r.GetValue(source),
    Kubeconfig = r.GetValue(kubeconfig),
    CgroupPath = r.GetValue(cgroup) ?? CgroupDefaults.RootCgroup(),
    BpffsPath = r.GetValue(bpffs)!,
    NodeName = r.GetValue(nodeName) ?? CgroupDefaults.NodeName(),
    DetachOnExit = r.GetValue(detachOnExit),
    HealthAddress = r.GetValue(healthAddress) is "none" or "" ? null : r.GetValue(healthAddress),
    JsonLogs = r.GetValue(logFormat) == "json",
    LogLevel = r.GetValue(logLevel),
}, ct)));

// status
var output = new Option<string>("--output", "-o") { Description = "table or json", DefaultValueFactory = _ => "table" };
output.AcceptOnlyFromAmong("table", "json");
var status = new Command("status", "Show what the kernel maps hold now: frontends, backends and per-service counters") { bpffs, output };
status.SetAction((r, _) => CliErrors.Run(() =>
{
    using var datapath = LoadBalancerDatapath.OpenPinned(r.GetValue(bpffs)!);
    var snapshot = datapath.ReadStatus();
    if (r.GetValue(output) == "json")
        Console.WriteLine(StatusRenderer.ToJson(snapshot));
    else
        StatusRenderer.WriteTable(snapshot, StatusRenderer.CreateConsole());
    return Task.FromResult(0);
}));

// detach
var detachCgroup = new Option<string>("--cgroup") { Description = "the cgroup the programs were attached to", Required = true };
var detach = new Command("detach", "Detach the programs and remove their pinned links and maps") { detachCgroup, bpffs };
detach.SetAction((r, _) => CliErrors.Run(() =>
{
    using var loggerFactory = LoggingSetup.CreateFactory(json: false, LogLevel.Information);
    LoadBalancerDatapath.Detach(new DatapathOptions(r.GetValue(detachCgroup)!, r.GetValue(bpffs)!), loggerFactory.CreateLogger("cgroup-lb"));
    return Task.FromResult(0);
}));

var root = new RootCommand("cgroup-lb: Kubernetes Services through eBPF cgroup socket load balancing (a kube-proxy replacement)")
{
    run, status, detach,
};
var parsed = root.Parse(args);
if (parsed.Action is ParseErrorAction)
    return CliErrors.ReportUsage(parsed);
return await parsed.InvokeAsync();
