using k8s;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// The two calls a reflector needs for one resource kind, bound to the generated typed client methods (see
/// <see cref="ResourceApis"/>). Watches must be opened with allowWatchBookmarks=true.
/// </summary>
public sealed class ResourceApi<T>
{
    public ResourceApi(
        Func<string?, int, CancellationToken, Task<ResourceListPage<T>>> listPageAsync,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch)
    {
        ListPageAsync = listPageAsync;
        Watch = watch;
    }

    /// <summary>(continue token or null for the first page, page size, ct) -> page.</summary>
    public Func<string?, int, CancellationToken, Task<ResourceListPage<T>>> ListPageAsync { get; }

    /// <summary>
    /// (resourceVersion, timeoutSeconds, onError, ct) -> events. KubernetesClient reports ERROR Status events and
    /// undecodable lines through onError and keeps reading; HTTP errors on open surface as exceptions.
    /// </summary>
    public Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> Watch { get; }
}
