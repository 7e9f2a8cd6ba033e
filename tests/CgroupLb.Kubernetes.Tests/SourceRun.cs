using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Testing;
using CgroupLb.Testing.Logging;
using k8s;
using Microsoft.Extensions.Logging;
using Xunit.Sdk;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>A running <see cref="KubernetesSource"/> with a recording sink and observer; disposing stops it and checks it stopped.</summary>
public sealed class SourceRun : IAsyncDisposable
{
    /// <summary>Short delays so outage tests take seconds; a watchdog long enough not to interfere unless a test wants it.</summary>
    public static readonly ReflectorOptions FastOptions = new()
    {
        ListPageSize = 100,
        WatchQuietTimeout = TimeSpan.FromSeconds(30),
        WatchServerTimeout = TimeSpan.FromSeconds(60),
        ListPageTimeout = TimeSpan.FromSeconds(2),
        BackoffInitial = TimeSpan.FromMilliseconds(50),
        BackoffMax = TimeSpan.FromMilliseconds(400),
        BackoffJitter = 0.2,
    };

    private readonly CancellationTokenSource stopping = new();
    private readonly Task running;

    private SourceRun(IKubernetes client, KubernetesSourceOptions options)
    {
        Client = client;
        Source = new KubernetesSource(client, options, new SingleLoggerFactory(Log), Observer);
        running = Task.Run(() => Source.RunAsync(Sink, stopping.Token));
    }

    public IKubernetes Client { get; }

    public KubernetesSource Source { get; }

    public RecordingChangeSink Sink { get; } = new();

    public RecordingReflectorObserver Observer { get; } = new();

    /// <summary>What every reflector of the source logged.</summary>
    public ListLogger Log { get; } = new();

    public static SourceRun Start(string host, string? nodeName = null, ReflectorOptions? reflector = null) =>
        Start(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = host }), nodeName, reflector);

    /// <param name="typed">Lists and watches through KubernetesClient's generated calls (<see cref="KubernetesSourceOptions.TypedLists"/>).</param>
    public static SourceRun Start(IKubernetes client, string? nodeName = null, ReflectorOptions? reflector = null, bool typed = false) =>
        new(client, new KubernetesSourceOptions { NodeName = nodeName, Reflector = reflector ?? FastOptions, TypedLists = typed });

    public Task WaitSyncedAsync(TimeSpan timeout) =>
        Eventually.TrueAsync(
            () => Source.SyncSources.All(Sink.IsSynced),
            timeout,
            () => $"synced: {string.Join(",", Source.SyncSources.Where(Sink.IsSynced))} of {string.Join(",", Source.SyncSources)}");

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        var finished = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(10)));
        Client.Dispose();
        if (finished != running)
        {
            throw new XunitException("KubernetesSource.RunAsync did not return within 10 s of cancellation");
        }

        await running;
        Assert.Empty(Sink.Violations);
    }

    private sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }
}
