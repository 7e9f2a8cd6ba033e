using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>The resources the agent reflects, bound to KubernetesClient's typed list and watch calls.</summary>
public static class ResourceApis
{
    public static ResourceApi<V1Service> Services(IKubernetes client) => new(
        async (continueToken, limit, ct) =>
        {
            var list = await client.CoreV1.ListServiceForAllNamespacesAsync(
                continueParameter: continueToken, limit: limit, cancellationToken: ct).ConfigureAwait(false);
            return new ResourceListPage<V1Service>(list.Items ?? [], list.Metadata?.ResourceVersion, list.Metadata?.ContinueProperty);
        },
        (resourceVersion, timeoutSeconds, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(
            allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds,
            onError: onError, cancellationToken: ct));

    public static ResourceApi<V1EndpointSlice> EndpointSlices(IKubernetes client) => new(
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
    public static ResourceApi<V1Node> Nodes(IKubernetes client) => new(
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
