using CgroupLb.Agent.Metrics;
using CgroupLb.Kubernetes;
using CgroupLb.Kubernetes.ApiServer;
using CgroupLb.Manifests;
using CgroupLb.Model.Changes;
using k8s;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// The source `run` was told to follow, checked before the kernel is touched (a manifest path that does not exist,
/// no usable kubeconfig) and built later, once the metrics it reports to exist.
/// </summary>
internal abstract class ConfiguredSource
{
    /// <summary>For log lines: "manifests at PATH", "Kubernetes API (in-cluster)".</summary>
    public abstract string Description { get; }

    /// <summary>The names the source passes to OnSynced; nothing is written before all of them have listed.</summary>
    public abstract IReadOnlyList<string> SyncSources { get; }

    /// <summary>Builds the source reporting to <paramref name="metrics"/>; returns its run loop.</summary>
    public abstract Func<IClusterChangeSink, CancellationToken, Task> Build(AgentMetrics metrics, ILoggerFactory loggerFactory);

    public static ConfiguredSource From(RunOptions options, ILoggerFactory loggerFactory) =>
        options.SourcePath is { } path ? new Manifests(path) : new Kubernetes(options, loggerFactory);

    private sealed class Manifests : ConfiguredSource
    {
        private readonly string path;

        public Manifests(string path)
        {
            ManifestPathNotFoundException.ThrowIfMissing(path);
            this.path = path;
        }

        public override string Description => $"manifests at {path}";
        public override IReadOnlyList<string> SyncSources => [ManifestSource.SourceName];

        public override Func<IClusterChangeSink, CancellationToken, Task> Build(AgentMetrics metrics, ILoggerFactory loggerFactory)
        {
            var source = new ManifestSource(new ManifestSourceOptions { Path = path }, loggerFactory.CreateLogger<ManifestSource>());
            source.ErrorsChanged += errors => metrics.OnManifestErrors(errors.Count);
            return source.RunAsync;
        }
    }

    private sealed class Kubernetes : ConfiguredSource
    {
        private readonly IKubernetes client;
        private readonly RunOptions options;
        private readonly KubernetesSourceOptions sourceOptions;
        private readonly ApiServerAddressFile apiServerAddresses;

        public Kubernetes(RunOptions options, ILoggerFactory loggerFactory)
        {
            // Without k8sServiceHost the configured host is the kubernetes ClusterIP, which this agent translates for
            // itself: the addresses saved from the kubernetes EndpointSlice are the way back when that path fails.
            apiServerAddresses = new ApiServerAddressFile(options.StateDir);
            client = KubernetesClientFactory.Create(options.Kubeconfig,
                new ApiServerFallbackConnector(apiServerAddresses, loggerFactory.CreateLogger<ApiServerFallbackConnector>()));
            this.options = options;
            sourceOptions = new KubernetesSourceOptions { NodeName = options.NodeName };
            SyncSources = new KubernetesSource(client, sourceOptions).SyncSources;
        }

        public override string Description =>
            options.Kubeconfig is null ? "Kubernetes API (in-cluster)" : $"Kubernetes API ({options.Kubeconfig})";

        public override IReadOnlyList<string> SyncSources { get; }

        public override Func<IClusterChangeSink, CancellationToken, Task> Build(AgentMetrics metrics, ILoggerFactory loggerFactory)
        {
            var source = new KubernetesSource(client, sourceOptions, loggerFactory, metrics);
            var recorderLogger = loggerFactory.CreateLogger<ApiServerAddressRecorder>();
            return (sink, ct) => source.RunAsync(new ApiServerAddressRecorder(sink, apiServerAddresses, recorderLogger), ct);
        }
    }
}
