using System.CommandLine;
using System.CommandLine.Invocation;
using System.Net;
using System.Runtime.InteropServices;
using CgroupLb.Agent.Cli;
using CgroupLb.Agent.Hosting;
using CgroupLb.Datapath.Diagnostics;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.NodeAddresses;
using CgroupLb.Kubernetes.ApiServer;
using CgroupLb.Kubernetes.Uninstall;
using CgroupLb.Datapath.Tracing;
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
// kube-proxy's names and shapes: host:port, "" or "none" turns the listener off. The ports are neither kube-proxy's
// (10249, 10256: both run side by side during a migration) nor Cilium's (9962-9965, 9876, 9879, 9890).
Option<BindAddress> BindAddressOption(string name, string serves, string defaultValue) => new(name)
{
    Description = $"host:port serving {serves}, or 'none' (default {defaultValue})",
    DefaultValueFactory = _ => BindAddress.TryParse(defaultValue, out var address) ? address! : BindAddress.Disabled,
    CustomParser = r =>
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (BindAddress.TryParse(text, out var address))
            return address!;
        r.AddError($"{name}: '{text}' is not host:port with an IP address (e.g. 0.0.0.0:10266, [::]:10266), '' or 'none'");
        return BindAddress.Disabled;
    },
};
var healthzBindAddress = BindAddressOption("--healthz-bind-address", "/healthz and /readyz", BindAddress.DefaultHealthz);
var metricsBindAddress = BindAddressOption("--metrics-bind-address", "/metrics", BindAddress.DefaultMetrics);
var stateDir = new Option<string>("--state-dir")
{
    Description = "directory for the agent's small state files (the API server addresses last seen); keep it across restarts",
    DefaultValueFactory = _ => RunOptions.DefaultStateDir,
};
Option<TimeSpan> DurationOption(string name, string description, TimeSpan defaultValue)
{
    var option = new Option<TimeSpan>(name)
    {
        Description = $"{description} (default {Duration.Format(defaultValue)}; e.g. 30s, 500ms, 1m)",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Duration.TryParse(text, out var value) && value >= TimeSpan.Zero)
                return value;
            r.AddError($"{name}: '{text}' is not a duration (e.g. 30s, 500ms, 1m)");
            return default;
        },
    };
    return option;
}
var syncPeriod = DurationOption("--sync-period", "longest time between two full syncs, which repair maps changed behind the agent's back", TimeSpan.FromSeconds(30));
var minSyncPeriod = DurationOption("--min-sync-period", "least time between the starts of two syncs; bursts of changes become one map update", TimeSpan.FromMilliseconds(100));
var lockTimeout = DurationOption("--lock-timeout", "how long to wait for another agent on the same --bpffs to exit before giving up", TimeSpan.FromSeconds(30));
var healthPendingLimit = new Option<TimeSpan?>("--health-pending-limit")
{
    Description = "/healthz fails when a change has waited longer than this to reach the maps (default: 2 x --sync-period)",
    CustomParser = r =>
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (Duration.TryParse(text, out var value) && value > TimeSpan.Zero)
            return value;
        r.AddError($"--health-pending-limit: '{text}' is not a positive duration (e.g. 60s)");
        return null;
    },
};
var logFormat = new Option<string>("--log-format") { Description = "text or json", DefaultValueFactory = _ => "text" };
logFormat.AcceptOnlyFromAmong("text", "json");
var logLevel = new Option<LogLevel>("--log-level") { Description = "Trace, Debug, Information, Warning, Error", DefaultValueFactory = _ => LogLevel.Information };

var run = new Command("run", "Load (or adopt) the programs, attach them to the cgroup and keep the maps in sync until SIGINT/SIGTERM")
{
    source, kubeconfig, cgroup, bpffs, nodeName, detachOnExit, healthzBindAddress, metricsBindAddress, stateDir, syncPeriod, minSyncPeriod, lockTimeout, healthPendingLimit,
    logFormat, logLevel,
};
// Cilium's name: connected UDP sockets of a removed backend are always closed; this adds TCP connections.
var sockTerminateTcp = new Option<bool>("--bpf-lb-sock-terminate-pod-connections")
{
    Description = "also close TCP connections to a backend that left its Service (connected UDP sockets are always closed)",
};
run.Options.Add(sockTerminateTcp);
var metricsPerService = new Option<bool>("--metrics-per-service")
{
    Description = "export per-Service translation and refusal counters on /metrics (two series per Service port; off: totals only)",
};
run.Options.Add(metricsPerService);
// Cilium's socketLB.hostNamespaceOnly, as a kube-proxy-style flag.
var hostNamespaceOnly = new Option<bool>("--host-namespace-only")
{
    Description = "translate only sockets of the host network namespace; pods keep their Service addresses for another data path " +
        "(a sidecar proxy, Kata, a CNI that balances pods itself). Cilium's socketLB.hostNamespaceOnly",
};
run.Options.Add(hostNamespaceOnly);
var excludeNetns = new Option<string[]>("--exclude-netns")
{
    Description = "a network namespace whose sockets are never translated, in every mode: /run/netns/NAME or /proc/PID/ns/net " +
        "(repeatable; re-read on every full sync, so a namespace that goes away drops out; needs Linux 5.14+)",
    DefaultValueFactory = _ => [],
};
run.Options.Add(excludeNetns);
var mapCheckPeriod = DurationOption("--map-check-period",
    "least time between two checks of every map entry against what the agent wrote, by the periodic full sync; drift is repaired then (0s: every full sync)",
    TimeSpan.FromMinutes(5));
run.Options.Add(mapCheckPeriod);
// Cilium's --bpf-lb-map-max: one number for the load-balancing maps. The service maps' entries are allocated as they
// are written (BPF_F_NO_PREALLOC), so there a large value costs nothing until it is used; the backend maps are arrays.
var lbMapMax = new Option<uint?>("--bpf-lb-map-max")
{
    Description = $"max entries of the service maps (each frontend's master entry plus one per backend slot) and of the backend maps, " +
        $"per family (default: {DatapathOptions.DefaultServiceMapMax} and {DatapathOptions.DefaultBackendMapMax}; 50k Services x 10 endpoints need 550000 " +
        "and 500000). The backend maps are arrays: 32 bytes of kernel memory per entry from the start (4 MB at the default). " +
        "A change takes effect after 'cgroup-lb detach'",
    CustomParser = r =>
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            && value is >= DatapathOptions.MinLbMapMax and <= DatapathOptions.MaxLbMapMax)
            return value;
        r.AddError($"--bpf-lb-map-max: '{text}' is not a number from {DatapathOptions.MinLbMapMax} to {DatapathOptions.MaxLbMapMax}");
        return null;
    },
};
run.Options.Add(lbMapMax);
// Cilium's --preallocate-bpf-maps, for the maps a full sync writes most.
var preallocateMaps = new Option<bool>("--preallocate-bpf-maps")
{
    Description = "allocate every entry of the service and name maps when they are created, instead of as they are written: " +
        "map writes cost the kernel about a third as much, and the maps' whole capacity is kernel memory charged to the agent from the " +
        "start (232 bytes per --bpf-lb-map-max entry plus 21.5 MB of names, 82 MB at the default sizes). A change takes effect after 'cgroup-lb detach'",
};
run.Options.Add(preallocateMaps);
// kube-proxy's flag and values: CIDRs or 'primary'; empty, the default, is every node address.
var nodePortAddresses = new Option<NodePortAddresses>("--nodeport-addresses")
{
    Description = "comma-separated CIDRs of the node addresses that accept NodePort connections, or 'primary' (the Node objects' addresses); default: every node address",
    DefaultValueFactory = _ => NodePortAddresses.All,
    CustomParser = r =>
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        try
        {
            return NodePortAddresses.Parse(text);
        }
        catch (FormatException e)
        {
            r.AddError(e.Message);
            return NodePortAddresses.All;
        }
    },
};
run.Options.Add(nodePortAddresses);
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
    SyncPeriod = r.GetValue(syncPeriod),
    MinSyncPeriod = r.GetValue(minSyncPeriod),
    MapCheckPeriod = r.GetValue(mapCheckPeriod),
    LockTimeout = r.GetValue(lockTimeout),
    HealthPendingLimit = r.GetValue(healthPendingLimit),
    HealthzAddress = r.GetValue(healthzBindAddress) is { IsDisabled: false } healthzAt ? healthzAt : null,
    MetricsAddress = r.GetValue(metricsBindAddress) is { IsDisabled: false } metricsAt ? metricsAt : null,
    StateDir = r.GetValue(stateDir)!,
    JsonLogs = r.GetValue(logFormat) == "json",
    LogLevel = r.GetValue(logLevel),
    SockTerminateTcp = r.GetValue(sockTerminateTcp),
    MetricsPerService = r.GetValue(metricsPerService),
    HostNamespaceOnly = r.GetValue(hostNamespaceOnly),
    ExcludeNetns = r.GetValue(excludeNetns) ?? [],
    NodePortAddresses = r.GetValue(nodePortAddresses)!,
    LbMapMax = r.GetValue(lbMapMax),
    PreallocateLbMaps = r.GetValue(preallocateMaps),
}, ct)));

// status
var output = new Option<string>("--output", "-o") { Description = "table, json or yaml", DefaultValueFactory = _ => "table" };
output.AcceptOnlyFromAmong("table", "json", "yaml");
var statusService = new Option<string?>("--service") { Description = "only the frontends of this Service: NAMESPACE/NAME (every port and kind)" };
statusService.Validators.Add(r =>
{
    if (r.GetValueOrDefault<string?>() is { } text && !StatusFilter.TryParseService(text, out _, out var error))
        r.AddError($"--service: {error}");
});
var status = new Command("status", "Show what the kernel maps hold now: frontends (ClusterIP, NodePort, ExternalIP, LoadBalancer), backends and per-service counters")
{
    bpffs, output, statusService,
};
status.SetAction((r, _) => CliErrors.Run(() =>
{
    using var datapath = LoadBalancerDatapath.OpenPinned(r.GetValue(bpffs)!);
    var snapshot = datapath.ReadStatus();
    if (r.GetValue(statusService) is { } serviceText && StatusFilter.TryParseService(serviceText, out var service, out string? ignoredError))
        snapshot = StatusFilter.ForService(snapshot, service);
    if (r.GetValue(output) == "json")
        Console.WriteLine(StatusRenderer.ToJson(snapshot));
    else if (r.GetValue(output) == "yaml")
        Console.Write(YamlText.FromJson(StatusRenderer.ToJson(snapshot)));
    else
        StatusRenderer.WriteTable(snapshot, StatusRenderer.CreateConsole());
    return Task.FromResult(0);
}));

// detach
var detachCgroup = new Option<string>("--cgroup") { Description = "the cgroup the programs were attached to", Required = true };
var force = new Option<bool>("--force") { Description = "detach even while an agent holds the bpffs directory (it would attach its programs again)" };
var detachWait = new Option<TimeSpan?>("--wait")
{
    Description = "wait up to this long for a running agent to exit instead of refusing (the chart's uninstall hook stops the agents meanwhile; e.g. 5m)",
    CustomParser = r =>
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (Duration.TryParse(text, out var value) && value > TimeSpan.Zero)
            return value;
        r.AddError($"--wait: '{text}' is not a positive duration (e.g. 5m)");
        return null;
    },
};
var detach = new Command("detach",
    "Detach the programs and remove their pinned links and maps; refused while an agent runs on the same --bpffs. " +
    "Safe to repeat: with nothing attached it removes nothing and succeeds")
{
    detachCgroup, bpffs, force, detachWait,
};
detach.SetAction((r, _) => CliErrors.Run(() =>
{
    using var loggerFactory = LoggingSetup.CreateFactory(json: false, LogLevel.Information);
    var logger = loggerFactory.CreateLogger("cgroup-lb");
    string bpffsPath = r.GetValue(bpffs)!;
    // Never under a live agent: it owns the maps and would re-attach what detach removed.
    using var pinLock = r.GetValue(detachWait) is { } wait && Directory.Exists(bpffsPath)
        ? PinDirectoryLock.Acquire(bpffsPath, wait, logger)
        : PinDirectoryLock.TryAcquire(bpffsPath);
    if (pinLock is null && Directory.Exists(bpffsPath) && !r.GetValue(force))
        throw new DatapathException("detach",
            $"an agent is running on {bpffsPath} (lock held by {PinDirectoryLock.DescribeHolder(bpffsPath)}); stop it first " +
            "(or run it with --detach-on-exit), or pass --force");
    LoadBalancerDatapath.Detach(new DatapathOptions(r.GetValue(detachCgroup)!, bpffsPath), logger);
    return Task.FromResult(0);
}));

// uninstall-hook: the chart's pre-delete hook Job (templates/cleanup.yaml).
var hookNamespace = new Option<string>("--namespace") { Description = "the release's namespace", Required = true };
var agentDaemonSet = new Option<string>("--agent-daemonset") { Description = "the agents' DaemonSet, deleted first so that every agent stops", Required = true };
var cleanupDaemonSet = new Option<string>("--cleanup-daemonset") { Description = "the DaemonSet whose pods run `cgroup-lb detach --wait` on every node", Required = true };
var hookTimeout = DurationOption("--timeout", "how long to wait for every node's cleanup pod", TimeSpan.FromMinutes(5));
var uninstallHook = new Command("uninstall-hook",
    "(the Helm chart's pre-delete hook) stop the agents, then wait until the cleanup DaemonSet has detached the programs on every node")
{
    hookNamespace, agentDaemonSet, cleanupDaemonSet, hookTimeout, kubeconfig, stateDir,
};
uninstallHook.SetAction((r, ct) => CliErrors.Run(async () =>
{
    using var loggerFactory = LoggingSetup.CreateFactory(json: false, LogLevel.Information);
    // Its own node's programs go away while it waits: the API server addresses the agent saved are the way back.
    var fallback = new ApiServerFallbackConnector(new ApiServerAddressFile(r.GetValue(stateDir)!), loggerFactory.CreateLogger("cgroup-lb"));
    using var client = CgroupLb.Kubernetes.KubernetesClientFactory.Create(r.GetValue(kubeconfig), fallback);
    string? failure = await UninstallHook.RunAsync(client, r.GetValue(hookNamespace)!, r.GetValue(agentDaemonSet)!, r.GetValue(cleanupDaemonSet)!,
        r.GetValue(hookTimeout), TimeProvider.System, loggerFactory.CreateLogger("cgroup-lb"), ct);
    if (failure is null)
        return 0;
    Console.Error.WriteLine($"cgroup-lb: error: {failure}");
    return CliErrors.Failure;
}));

// doctor
var doctorOutput = new Option<string>("--output", "-o") { Description = "table or json", DefaultValueFactory = _ => "table" };
doctorOutput.AcceptOnlyFromAmong("table", "json");
var doctor = new Command("doctor", "Check what this node offers the data path (kernel, cgroup v2, bpffs, capabilities, each BPF feature) and the pinned state; exits 1 when something required is missing")
{
    cgroup, bpffs, doctorOutput,
};
doctor.SetAction((r, _) => CliErrors.Run(() =>
{
    var report = DatapathDoctor.Run(new DatapathOptions(r.GetValue(cgroup) ?? CgroupDefaults.RootCgroup(), r.GetValue(bpffs)!));
    if (r.GetValue(doctorOutput) == "json")
        Console.WriteLine(DoctorRenderer.ToJson(report));
    else
        DoctorRenderer.WriteTable(report, StatusRenderer.CreateConsole());
    return Task.FromResult(report.Healthy ? 0 : 1);
}));

// trace
var traceService = new Option<string?>("--service") { Description = "only this Service: namespace/name (every port) or namespace/name:port" };
var traceAddress = new Option<string?>("--address") { Description = "only events whose frontend or backend is this IP or IP:port" };
traceAddress.Validators.Add(r =>
{
    if (r.GetValueOrDefault<string?>() is { } text && !TraceFilter.TryParseAddress(text, out _, out _, out var error))
        r.AddError($"--address: {error}");
});
var traceNetns = new Option<ulong?>("--netns-cookie") { Description = "only sockets of the network namespace with this cookie (as the events show it)" };
var traceCount = new Option<int?>("--count") { Description = "exit after this many events (default: until Ctrl-C)" };
var traceOutput = new Option<string>("--output", "-o") { Description = "text or json (one object per line)", DefaultValueFactory = _ => "text" };
traceOutput.AcceptOnlyFromAmong("text", "json");
var trace = new Command("trace",
    "Show live translation decisions of connect4/sendmsg4 (frontend -> backend, or why refused) from the BPF ring buffer; " +
    "tracing is switched on only while a tracer runs, and nothing but that switch is written")
{
    bpffs, traceService, traceAddress, traceNetns, traceCount, traceOutput,
};
trace.SetAction((r, ct) => CliErrors.Run(async () =>
{
    // System.CommandLine turns SIGINT/SIGTERM into ct only once the action has returned its task; until then the
    // signal's default action applies. Yield first, so the tracer switches tracing on only after that.
    await Task.Yield();
    IPAddress? address = null;
    ushort port = 0;
    if (r.GetValue(traceAddress) is { } addressText)
        TraceFilter.TryParseAddress(addressText, out address, out port, out _);
    var filter = new TraceFilter(r.GetValue(traceService), address, port, r.GetValue(traceNetns));
    bool json = r.GetValue(traceOutput) == "json";
    int? limit = r.GetValue(traceCount);
    int shown = 0;
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    var stdout = Console.Out;
    using var session = TraceSession.Start(r.GetValue(bpffs)!, filter, e =>
    {
        if (limit is { } max && shown >= max)
            return;
        stdout.WriteLine(json ? TraceEventFormat.ToJson(e) : TraceEventFormat.ToLine(e));
        stdout.Flush();
        if (++shown == limit)
            stop.Cancel();
    });
    // A SIGKILL aside, every way out switches this tracer off. Ctrl-C and SIGTERM are handled here rather than left to
    // ct: the signal's default action would end the process before the switch is turned off.
    using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
    using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    Console.Error.WriteLine($"cgroup-lb: tracing translations under {r.GetValue(bpffs)} ({session.Tracers} tracer(s) attached); Ctrl-C to stop");
    await Task.Run(() => session.Run(stop.Token), CancellationToken.None);
    if (session.Lost > 0)
        Console.Error.WriteLine($"cgroup-lb: {session.Lost} events were lost (the ring buffer was full)");
    return 0;
}));

var root = new RootCommand("cgroup-lb: Kubernetes Services through eBPF cgroup socket load balancing (a kube-proxy replacement)")
{
    run, status, detach, uninstallHook, doctor, trace,
};

// completion: written from the tree above, so it lists exactly this build's commands and options.
var shell = new Argument<string>("shell") { Description = "bash or zsh" };
shell.AcceptOnlyFromAmong("bash", "zsh");
var completion = new Command("completion", "Print a shell completion script (bash: source <(cgroup-lb completion bash); zsh: source <(cgroup-lb completion zsh))") { shell };
completion.SetAction(r =>
{
    Console.Write(r.GetValue(shell) == "zsh" ? CompletionScript.Zsh(root) : CompletionScript.Bash(root));
    return 0;
});
root.Subcommands.Add(completion);
var parsed = root.Parse(args);
if (parsed.Action is ParseErrorAction)
    return CliErrors.ReportUsage(parsed);
return await parsed.InvokeAsync();
