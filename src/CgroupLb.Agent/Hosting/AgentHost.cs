using System.Net;
using CgroupLb.Agent.Cli;
using CgroupLb.Agent.Metrics;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.NodeAddresses;
using CgroupLb.Datapath.Termination;
using CgroupLb.Kubernetes;
using CgroupLb.Manifests;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Services;
using CgroupLb.Model.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// `cgroup-lb run`. Setup errors come first, as one clear line: the source's configuration, then the data path (lock
/// on the bpffs directory, attach or adopt). Then the object graph is built once, in dependency order (tracker, event
/// timing, metrics, source, syncer), and Microsoft.Extensions.Hosting starts the hosted services in registration order
/// (the health/metrics endpoints, the source, the syncer, the attachment watch), stops them in reverse on SIGTERM or
/// cancellation, and disposes them. The programs and maps stay in place afterwards (traffic keeps flowing while the
/// agent restarts) unless --detach-on-exit.
/// </summary>
internal static class AgentHost
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggingSetup.CreateFactory(options.JsonLogs, options.LogLevel);
        var logger = loggerFactory.CreateLogger("CgroupLb.Agent");
        var datapathOptions = new DatapathOptions(options.CgroupPath, options.BpffsPath) { HostNamespaceOnly = options.HostNamespaceOnly, NetnsExclusion = options.ExcludeNetns.Count > 0, LbMapMax = options.LbMapMax, PreallocateLbMaps = options.PreallocateLbMaps };

        // Source configuration errors (a missing manifest path, no kubeconfig) are found before the kernel is touched.
        var source = ConfiguredSource.From(options, loggerFactory);

        // One writer per bpffs directory: held until the process exits, released by the kernel however it exits.
        LoadBalancerDatapath.CheckPreflight(datapathOptions);
        NetnsExclusion.CheckSupported(options.ExcludeNetns);
        using var pinLock = PinDirectoryLock.Acquire(options.BpffsPath, options.LockTimeout, logger);

        // The source starts first and feeds only the tracker: its first read overlaps the load and attach below (see
        // StartedSource). Its status reads go to the data path, which exists before any endpoint serves a scrape.
        var tracker = new ClusterChangeTracker(options.NodeName, source.SyncSources, new ClusterObjectParser(loggerFactory.CreateLogger<ClusterObjectParser>()),
            loggerFactory.CreateLogger<ClusterChangeTracker>());
        var timing = new EventTimingSink(tracker, TimeProvider.System);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        LoadBalancerDatapath? attached = null;
        var metrics = new AgentMetrics(registry,
            () => (attached ?? throw new InvalidOperationException("the data path is not attached yet")).ReadStatus(withCounters: options.MetricsPerService),
            timing.TakePendingAge, () => tracker.PendingChangeCounts, new AgentMetricsOptions { PerService = options.MetricsPerService });
        var runSource = source.Build(metrics, loggerFactory);
        using var startedSource = new StartedSource(ct => runSource(timing, ct));

        using var datapath = attached = LoadBalancerDatapath.Attach(datapathOptions, loggerFactory);
        logger.LogInformation("Data path {Mode} on cgroup {Cgroup}, pins under {Bpffs}; following {Source} as node {Node}",
            datapath.Adopted ? "adopted" : "attached", options.CgroupPath, options.BpffsPath, source.Description, options.NodeName);
        if (options.HostNamespaceOnly)
            logger.LogInformation("Host-namespace-only mode: only sockets of the host network namespace are translated; pods are left to another data path");
        // Before the first sync, so an adopted map never serves a namespace the operator excluded (or stopped excluding).
        var netnsExclusion = new NetnsExclusion(options.ExcludeNetns, NetnsExclusion.CookieOfPath, loggerFactory.CreateLogger("CgroupLb.NetnsExclusion"));
        datapath.SetExcludedNetns(netnsExclusion.Resolve());

        // NodePort's node addresses: this host's, followed over rtnetlink for as long as the agent runs. The Node
        // objects' InternalIP/ExternalIP come in through nodeAddresses.SetClusterNodeAddresses (ClusterState.NodeAddresses).
        var nodeAddresses = datapath.CreateNodeAddressSync(options.NodePortAddresses, loggerFactory.CreateLogger("CgroupLb.NodeAddresses"));
        using var hostAddresses = HostAddressWatcher.Start(addresses => nodeAddresses.SetLocalAddresses(addresses),
            loggerFactory.CreateLogger<HostAddressWatcher>());

        var readiness = new AgentReadiness();
        var health = new AgentHealth(() => timing.PendingAge, () => tracker.IsSynced, options.HealthPendingLimit ?? 2 * options.SyncPeriod, TimeProvider.System);
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator(options.NodeName, loggerFactory.CreateLogger<ServiceTranslator>()),
            datapath.Writer, new LoadBalancerSyncerOptions { SyncPeriod = options.SyncPeriod, MinSyncInterval = options.MinSyncPeriod, MapCheckPeriod = options.MapCheckPeriod },
            loggerFactory.CreateLogger<LoadBalancerSyncer>(),
            new UpgradeOnFullSync(datapath, logger,
                new NetnsExclusionOnFullSync(datapath, netnsExclusion, logger,
                    new MemoryTrimAfterInitialSync(new SyncLogger(logger, readiness, health, metrics)))));

        using var socketTermination = SocketTerminationQueue.Start(
            new SocketTerminationOptions(options.CgroupPath, options.BpffsPath)
            {
                TerminateTcp = options.SockTerminateTcp,
                SocketStorage = datapath.Features?.SocketStorage,
            }, loggerFactory);
        syncer.BackendRemovalObserver = socketTermination;
        syncer.NodeAddressObserver = new ClusterNodeAddresses(nodeAddresses);

        var host = BuildHost(options, registry, readiness, health, services =>
        {
            services.AddSingleton(sp => new SourceService(startedSource.RunAsync, source.Description,
                sp.GetRequiredService<IHostApplicationLifetime>(), loggerFactory.CreateLogger<SourceService>()));
            services.AddHostedService(sp => sp.GetRequiredService<SourceService>());
            services.AddHostedService(_ => new SyncService(syncer));
            services.AddHostedService(_ => new AttachmentWatchService(datapath, health, TimeProvider.System, loggerFactory.CreateLogger<AttachmentWatchService>()));
        });
        var sourceService = host.Services.GetRequiredService<SourceService>();
        try
        {
            await host.RunAsync(cancellationToken); // starts, waits for SIGTERM or cancellation, stops, disposes
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        Finish(options, datapath, datapathOptions, logger);
        if (sourceService.Failure is { } failure)
            throw failure;
        return 0;
    }

    private static void Finish(RunOptions options, LoadBalancerDatapath datapath, DatapathOptions datapathOptions, ILogger logger)
    {
        if (options.DetachOnExit)
        {
            datapath.Dispose();
            LoadBalancerDatapath.Detach(datapathOptions, logger); // still under our lock
        }
        else
        {
            logger.LogInformation("Stopping; programs stay attached and maps pinned under {Bpffs} (cgroup-lb detach removes them)", options.BpffsPath);
        }
    }

    private static IHost BuildHost(RunOptions options, CollectorRegistry registry, AgentReadiness readiness, AgentHealth health,
        Action<IServiceCollection> addServices)
    {
        var healthz = options.HealthzAddress;
        var metricsAt = options.MetricsAddress;
        if (healthz is null && metricsAt is null)
        {
            // No endpoints wanted: keep the host for its lifetime, SIGTERM handling and hosted services; listen nowhere.
            var plain = Host.CreateApplicationBuilder();
            plain.Logging.ClearProviders();
            plain.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
            addServices(plain.Services);
            return plain.Build();
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        addServices(builder.Services);
        // Two listeners, as kube-proxy's --healthz-bind-address and --metrics-bind-address: each path answers only on
        // its own port (one port given to both serves all three paths).
        builder.WebHost.UseKestrel().UseUrls([.. new[] { healthz, metricsAt }.OfType<BindAddress>().Select(a => a.Url).Distinct()]);
        var app = builder.Build();
        if (healthz is not null)
        {
            app.MapGet("/healthz", () =>
            {
                var reasons = health.Reasons();
                return Results.Text(health.ToJson(reasons) + "\n", "application/json",
                    statusCode: reasons.Count == 0 ? (int)HttpStatusCode.OK : (int)HttpStatusCode.ServiceUnavailable);
            }).AddEndpointFilter(OnlyOnPort(healthz.Port));
            // Ready after the first complete sync, and not ready again while liveness fails (the data path is broken).
            app.MapGet("/readyz", () => !readiness.IsReady
                ? Results.Text("waiting for the first complete sync\n", statusCode: (int)HttpStatusCode.ServiceUnavailable)
                : health.Reasons() is { Count: > 0 } reasons
                    ? Results.Text($"not ready: {string.Join("; ", reasons)}\n", statusCode: (int)HttpStatusCode.ServiceUnavailable)
                    : Results.Text("ready\n")).AddEndpointFilter(OnlyOnPort(healthz.Port));
        }
        if (metricsAt is not null)
        {
            int metricsPort = metricsAt.Port;
            app.UseWhen(c => c.Request.Path == "/metrics" && c.Connection.LocalPort != metricsPort,
                branch => branch.Run(c => { c.Response.StatusCode = (int)HttpStatusCode.NotFound; return Task.CompletedTask; }));
            app.MapMetrics("/metrics", registry);
        }
        return app;
    }

    /// <summary>404 for a request that came in on the other listener's port.</summary>
    private static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> OnlyOnPort(int port) =>
        (context, next) => context.HttpContext.Connection.LocalPort == port ? next(context) : ValueTask.FromResult<object?>(Results.NotFound());
}
