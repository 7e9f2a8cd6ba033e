using System.Net;
using CgroupLb.Agent.Metrics;
using CgroupLb.Datapath.Loading;
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
/// `cgroup-lb run`: attach (or adopt) the data path first, so setup errors are one clear line before anything
/// runs; then a host with the source, the syncer and the health/metrics endpoints. On SIGTERM the programs and maps
/// stay in place (traffic keeps flowing while the agent restarts) unless --detach-on-exit.
/// </summary>
internal static class AgentHost
{
    public static async Task<int> RunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggingSetup.CreateFactory(options.JsonLogs, options.LogLevel);
        var logger = loggerFactory.CreateLogger("CgroupLb.Agent");
        var datapathOptions = new DatapathOptions(options.CgroupPath, options.BpffsPath);

        // Source configuration errors (a missing manifest path, no kubeconfig) are found before the kernel is touched.
        Func<IClusterChangeSink, CancellationToken, Task> runSource;
        IReadOnlyList<string> requiredSources;
        string sourceDescription;
        var registry = Prometheus.Metrics.NewCustomRegistry();
        AgentMetrics? metrics = null;
        if (options.SourcePath is { } path)
        {
            ManifestPathNotFoundException.ThrowIfMissing(path);
            var source = new ManifestSource(new ManifestSourceOptions { Path = path }, loggerFactory.CreateLogger<ManifestSource>());
            source.ErrorsChanged += errors => metrics?.OnManifestErrors(errors.Count);
            runSource = source.RunAsync;
            requiredSources = [ManifestSource.SourceName];
            sourceDescription = $"manifests at {path}";
        }
        else
        {
            var client = KubernetesClientFactory.Create(options.Kubeconfig);
            var source = new KubernetesSource(client, new KubernetesSourceOptions { NodeName = options.NodeName }, loggerFactory,
                new DeferredReflectorObserver(() => metrics));
            runSource = source.RunAsync;
            requiredSources = source.SyncSources;
            sourceDescription = options.Kubeconfig is null ? "Kubernetes API (in-cluster)" : $"Kubernetes API ({options.Kubeconfig})";
        }

        using var datapath = LoadBalancerDatapath.Attach(datapathOptions, loggerFactory);
        logger.LogInformation("Data path {Mode} on cgroup {Cgroup}, pins under {Bpffs}; following {Source} as node {Node}",
            datapath.Adopted ? "adopted" : "attached", options.CgroupPath, options.BpffsPath, sourceDescription, options.NodeName);

        var tracker = new ClusterChangeTracker(options.NodeName, requiredSources, new ClusterObjectParser(loggerFactory.CreateLogger<ClusterObjectParser>()),
            loggerFactory.CreateLogger<ClusterChangeTracker>());
        var timing = new EventTimingSink(tracker, TimeProvider.System);
        metrics = new AgentMetrics(registry, datapath, timing.TakePendingAge);
        var readiness = new AgentReadiness();
        var syncer = new LoadBalancerSyncer(tracker, new ServiceTranslator(options.NodeName, loggerFactory.CreateLogger<ServiceTranslator>()),
            datapath.Writer, new LoadBalancerSyncerOptions { FullResyncInterval = TimeSpan.FromMinutes(5) },
            loggerFactory.CreateLogger<LoadBalancerSyncer>(), new SyncLogger(logger, readiness, metrics));

        using var socketTermination = SocketTerminationQueue.Start(
            new SocketTerminationOptions(options.CgroupPath, options.BpffsPath) { TerminateTcp = options.SockTerminateTcp }, loggerFactory);
        syncer.BackendRemovalObserver = socketTermination;
        var host = BuildHost(options, loggerFactory, registry, readiness);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var sourceService = new SourceService(ct => runSource(timing, ct), sourceDescription, lifetime, loggerFactory.CreateLogger<SourceService>());
        var syncService = new SyncService(syncer);

        try
        {
            await host.StartAsync(cancellationToken);
            await sourceService.StartAsync(cancellationToken);
            await syncService.StartAsync(cancellationToken);
            await host.WaitForShutdownAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await sourceService.StopAsync(stopTimeout.Token);
            await syncService.StopAsync(stopTimeout.Token);
            await host.StopAsync(stopTimeout.Token);
            host.Dispose();
        }

        if (options.DetachOnExit)
        {
            datapath.Dispose();
            LoadBalancerDatapath.Detach(datapathOptions, logger);
        }
        else
        {
            logger.LogInformation("Stopping; programs stay attached and maps pinned under {Bpffs} (cgroup-lb detach removes them)", options.BpffsPath);
        }
        if (sourceService.Failure is { } failure)
            throw failure;
        return 0;
    }

    private static IHost BuildHost(RunOptions options, ILoggerFactory loggerFactory, CollectorRegistry registry, AgentReadiness readiness)
    {
        if (options.HealthAddress is not { } address)
        {
            // No endpoints wanted: keep the host for its lifetime and SIGTERM handling, listen nowhere.
            var plain = Host.CreateApplicationBuilder();
            plain.Logging.ClearProviders();
            plain.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
            return plain.Build();
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.WebHost.UseKestrel().UseUrls($"http://{address}");
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () => readiness.IsReady
            ? Results.Text("ready\n")
            : Results.Text("waiting for the first complete sync\n", statusCode: (int)HttpStatusCode.ServiceUnavailable));
        app.MapMetrics("/metrics", registry);
        return app;
    }
}
