using CgroupLb.Kubernetes.Decoding;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// The resources the agent reflects. Lists and watches are read by our own decoders (<see cref="ListPageJson"/>,
/// <see cref="WatchEventJson"/>: only the fields the model uses, one malformed object refused alone) over
/// KubernetesClient's HTTP pipeline. <paramref name="typed"/> (or a client that is not KubernetesClient's own) lists and
/// watches through the generated typed calls instead, which decode whole API objects and fail a page or an event as a
/// whole on one value of the wrong type.
/// </summary>
public static class ResourceApis
{
    private const string ServicesPath = "api/v1/services";
    private const string EndpointSlicesPath = "apis/discovery.k8s.io/v1/endpointslices";
    private const string NodesPath = "api/v1/nodes";

    public static ResourceApi<V1Service> Services(IKubernetes client, bool typed = false) => client is k8s.Kubernetes direct && !typed
        ? new(
            (continueToken, limit, ct) => ListPageRequest.GetAsync(direct, ServicesPath, continueToken, limit, ListPageJson.Services, ct),
            (resourceVersion, timeoutSeconds, onError, ct) => WatchStreamRequest.WatchAsync(
                direct, ServicesPath, resourceVersion, timeoutSeconds, WatchEventJson.Service, onError, ct))
        : new(
            async (continueToken, limit, ct) =>
            {
                var list = await client.CoreV1.ListServiceForAllNamespacesAsync(
                    continueParameter: continueToken, limit: limit, cancellationToken: ct).ConfigureAwait(false);
                return new ResourceListPage<V1Service>(list.Items ?? [], list.Metadata?.ResourceVersion, list.Metadata?.ContinueProperty);
            },
            (resourceVersion, timeoutSeconds, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(
                allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds,
                onError: onError, cancellationToken: ct));

    public static ResourceApi<V1EndpointSlice> EndpointSlices(IKubernetes client, bool typed = false) => client is k8s.Kubernetes direct && !typed
        ? new(
            (continueToken, limit, ct) => ListPageRequest.GetAsync(direct, EndpointSlicesPath, continueToken, limit, ListPageJson.EndpointSlices, ct),
            (resourceVersion, timeoutSeconds, onError, ct) => WatchStreamRequest.WatchAsync(
                direct, EndpointSlicesPath, resourceVersion, timeoutSeconds, WatchEventJson.EndpointSlice, onError, ct))
        : new(
            async (continueToken, limit, ct) =>
            {
                var list = await client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(
                    continueParameter: continueToken, limit: limit, cancellationToken: ct).ConfigureAwait(false);
                return new ResourceListPage<V1EndpointSlice>(list.Items ?? [], list.Metadata?.ResourceVersion, list.Metadata?.ContinueProperty);
            },
            (resourceVersion, timeoutSeconds, onError, ct) => client.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(
                allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds,
                onError: onError, cancellationToken: ct));

    /// <summary>
    /// Every Node: this node's gives its zone (topology hints), and every node's InternalIP/ExternalIP are the addresses
    /// a NodePort answers on. The reflector keeps only identity and resourceVersion of each (see ReflectorStore), and
    /// the tracker only the parsed zone and addresses, so a large cluster's Node objects are not held in memory.
    /// </summary>
    public static ResourceApi<V1Node> Nodes(IKubernetes client, bool typed = false) => client is k8s.Kubernetes direct && !typed
        ? new(
            (continueToken, limit, ct) => ListPageRequest.GetAsync(direct, NodesPath, continueToken, limit, ListPageJson.Nodes, ct),
            (resourceVersion, timeoutSeconds, onError, ct) => WatchStreamRequest.WatchAsync(
                direct, NodesPath, resourceVersion, timeoutSeconds, WatchEventJson.Node, onError, ct))
        : new(
            async (continueToken, limit, ct) =>
            {
                var list = await client.CoreV1.ListNodeAsync(
                    continueParameter: continueToken, limit: limit, cancellationToken: ct).ConfigureAwait(false);
                return new ResourceListPage<V1Node>(list.Items ?? [], list.Metadata?.ResourceVersion, list.Metadata?.ContinueProperty);
            },
            (resourceVersion, timeoutSeconds, onError, ct) => client.CoreV1.WatchListNodeAsync(
                allowWatchBookmarks: true, resourceVersion: resourceVersion,
                timeoutSeconds: timeoutSeconds, onError: onError, cancellationToken: ct));
}
