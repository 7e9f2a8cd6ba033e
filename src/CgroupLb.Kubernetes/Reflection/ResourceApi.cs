using System.Runtime.CompilerServices;
using CgroupLb.Kubernetes.Decoding;
using k8s;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// The two calls a reflector needs for one resource kind (see <see cref="ResourceApis"/>). Watches must be opened with
/// allowWatchBookmarks=true.
/// </summary>
public sealed class ResourceApi<T>
    where T : class
{
    public ResourceApi(
        Func<string?, int, CancellationToken, Task<ResourceListPage<T>>> listPageAsync,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<WatchEventLine<T>>> watch)
    {
        ListPageAsync = listPageAsync;
        Watch = watch;
    }

    /// <summary>A watch whose events are whole objects, as KubernetesClient's typed watch calls yield them: none is refused.</summary>
    public ResourceApi(
        Func<string?, int, CancellationToken, Task<ResourceListPage<T>>> listPageAsync,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> typedWatch)
        : this(listPageAsync, (resourceVersion, timeoutSeconds, onError, ct) => Lines(typedWatch(resourceVersion, timeoutSeconds, onError, ct), ct))
    {
    }

    /// <summary>(continue token or null for the first page, page size, ct) -> page.</summary>
    public Func<string?, int, CancellationToken, Task<ResourceListPage<T>>> ListPageAsync { get; }

    /// <summary>
    /// (resourceVersion, timeoutSeconds, onError, ct) -> events. ERROR Status events and undecodable lines are reported
    /// through onError (after which nothing more is applied); HTTP errors on open surface as exceptions.
    /// </summary>
    public Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<WatchEventLine<T>>> Watch { get; }

    private static async IAsyncEnumerable<WatchEventLine<T>> Lines(
        IAsyncEnumerable<(WatchEventType Type, T Object)> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (type, obj) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return new WatchEventLine<T>(type, obj);
        }
    }
}
