using CgroupLb.Kubernetes.Decoding;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// The resources the agent reflects. Lists are read by our own decoder (<see cref="ListPageJson"/>: only the fields the
/// model uses, one malformed object refused alone) over KubernetesClient's HTTP pipeline; watches use KubernetesClient's
/// typed watch calls. <paramref name="typedLists"/> (or a client that is not KubernetesClient's own) lists through the
/// generated typed calls instead, which decode whole API objects.
/// </summary>
public static class ResourceApis
{
    public static ResourceApi<V1Service> Services(IKubernetes client, bool typedLists = false) => new(
        client is k8s.Kubernetes direct && !typedLists
            ? (continueToken, limit, ct) => ListPageRequest.GetAsync(direct, "api/v1/services", continueToken, limit, ListPageJson.Services, ct)
            : async (continueToken, limit, ct) =>
            {
                var list = await client.CoreV1.ListServiceForAllNamespacesAsync(
                    continueParameter: continueToken, limit: limit, cancellationToken: ct).ConfigureAwait(false);
                return new ResourceListPage<V1Service>(list.Items ?? [], list.Metadata?.ResourceVersion, list.Metadata?.ContinueProperty);
            },
        (resourceVersion, timeoutSeconds, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(
            allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds,
            onError: onError, cancellationToken: ct));

    public static ResourceApi<V1EndpointSlice> EndpointSlices(IKubernetes client, bool typedLists = false) => new(
        client is k8s.Kubernetes direct && !typedLists
            ? (continueToken, limit, ct) => ListPageRequest.GetAsync(
                direct, "apis/discovery.k8s.io/v1/endpointslices", continueToken, limit, ListPageJson.EndpointSlices, ct)
            : async (continueToken, limit, ct) =>
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
    public static ResourceApi<V1Node> Nodes(IKubernetes client, bool typedLists = false) => new(
        client is k8s.Kubernetes direct && !typedLists
            ? (continueToken, limit, ct) => ListPageRequest.GetAsync(direct, "api/v1/nodes", continueToken, limit, ListPageJson.Nodes, ct)
            : async (continueToken, limit, ct) =>
            {
                var list = await client.CoreV1.ListNodeAsync(
                    continueParameter: continueToken, limit: limit, cancellationToken: ct).ConfigureAwait(false);
                return new ResourceListPage<V1Node>(list.Items ?? [], list.Metadata?.ResourceVersion, list.Metadata?.ContinueProperty);
            },
        (resourceVersion, timeoutSeconds, onError, ct) => client.CoreV1.WatchListNodeAsync(
            allowWatchBookmarks: true, resourceVersion: resourceVersion,
            timeoutSeconds: timeoutSeconds, onError: onError, cancellationToken: ct));
}
