using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Model.Changes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Kubernetes;

/// <summary>
/// The cluster as a change source: one reflector each for Services, EndpointSlices and (when a node name is
/// configured) Nodes, all of them (this node's zone for topology, every node's addresses for NodePort), all feeding one <see cref="IClusterChangeSink"/>. The sink is called from one
/// thread at a time. Each reflector reports <see cref="IClusterChangeSink.OnSynced"/> once, after its first
/// complete list, under the names in <see cref="SyncSources"/>.
/// </summary>
public sealed class KubernetesSource
{
    public const string ServicesSource = "services";
    public const string EndpointSlicesSource = "endpointslices";
    public const string NodeSource = "node";

    private readonly IKubernetes client;
    private readonly KubernetesSourceOptions options;
    private readonly ILoggerFactory loggerFactory;
    private readonly IReflectorObserver observer;

    public KubernetesSource(
        IKubernetes client,
        KubernetesSourceOptions options,
        ILoggerFactory? loggerFactory = null,
        IReflectorObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Reflector.Validate();
        this.client = client;
        this.options = options;
        this.loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        this.observer = observer ?? NullReflectorObserver.Instance;
        SyncSources = string.IsNullOrEmpty(options.NodeName)
            ? [ServicesSource, EndpointSlicesSource]
            : [ServicesSource, EndpointSlicesSource, NodeSource];
    }

    /// <summary>The source names this instance will pass to OnSynced; the node is absent without a node name.</summary>
    public IReadOnlyList<string> SyncSources { get; }

    /// <summary>
    /// Runs the reflectors until <paramref name="cancellationToken"/> is cancelled, then returns. API server outages
    /// are retried forever; only a failing sink (<see cref="ChangeSinkException"/>) ends it early, after stopping the
    /// other reflectors.
    /// </summary>
    public async Task RunAsync(IClusterChangeSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var serialized = new SerializedChangeSink(sink);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var runs = new List<Task>
        {
            RunOne(new Reflector<V1Service>(
                ServicesSource, ResourceApis.Services(client, options.TypedLists), options.Reflector,
                change => serialized.OnService(change.Previous, change.Current),
                () => serialized.OnSynced(ServicesSource),
                observer, Logger(ServicesSource)), stopping),
            RunOne(new Reflector<V1EndpointSlice>(
                EndpointSlicesSource, ResourceApis.EndpointSlices(client, options.TypedLists), options.Reflector,
                change => serialized.OnEndpointSlice(change.Previous, change.Current),
                () => serialized.OnSynced(EndpointSlicesSource),
                observer, Logger(EndpointSlicesSource)), stopping),
        };

        if (!string.IsNullOrEmpty(options.NodeName))
        {
            runs.Add(RunOne(new Reflector<V1Node>(
                NodeSource, ResourceApis.Nodes(client, options.TypedLists), options.Reflector,
                change => serialized.OnNode(change.Previous, change.Current),
                () => serialized.OnSynced(NodeSource),
                observer, Logger(NodeSource)), stopping));
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
    }

    private static async Task RunOne<T>(Reflector<T> reflector, CancellationTokenSource stopping)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        try
        {
            await reflector.RunAsync(stopping.Token).ConfigureAwait(false);
        }
        catch
        {
            // One reflector failing leaves the sink with a partial picture; the others stop rather than keep
            // feeding it.
            await stopping.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private ILogger Logger(string kind) => loggerFactory.CreateLogger($"CgroupLb.Kubernetes.Reflector.{kind}");
}
