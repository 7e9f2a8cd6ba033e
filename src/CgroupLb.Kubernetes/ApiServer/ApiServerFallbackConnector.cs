using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Kubernetes.ApiServer;

/// <summary>
/// The API client's TCP connect (SocketsHttpHandler.ConnectCallback): the configured host first (in a pod, the
/// `kubernetes` ClusterIP), then, when that fails, the API server addresses saved from the `kubernetes`
/// EndpointSlice, straight. An agent attached to the root cgroup translates its own connects too, so after the API
/// server moved while no agent ran, the ClusterIP leads to the old address and only the saved ones can reach the
/// server to list the change. TLS and the Host header are untouched: the certificate is checked against the configured
/// host, which the API server's certificate names (the ClusterIP is among its SANs), whichever address carried it.
/// </summary>
public sealed class ApiServerFallbackConnector(ApiServerAddressFile addresses, ILogger logger, TimeSpan? connectTimeout = null)
{
    /// <summary>How long one address gets before the next is tried.</summary>
    public TimeSpan ConnectTimeout { get; } = connectTimeout ?? TimeSpan.FromSeconds(5);

    private IPEndPoint? lastFallback;

    /// <summary>Installs this connector on the client's root handler (KubernetesClientConfiguration.FirstMessageHandlerSetup).</summary>
    public void Install(HttpMessageHandler handler)
    {
        if (handler is not SocketsHttpHandler sockets)
            throw new InvalidOperationException($"the Kubernetes client's root handler is a {handler.GetType().Name}, not a SocketsHttpHandler; the API server fallback cannot be installed");
        sockets.ConnectCallback = ConnectAsync;
    }

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        Exception first;
        try
        {
            return await ConnectOneAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            first = e;
        }

        foreach (var address in addresses.Addresses)
        {
            try
            {
                var stream = await ConnectOneAsync(address, cancellationToken).ConfigureAwait(false);
                if (!address.Equals(Interlocked.Exchange(ref lastFallback, address)))
                    logger.LogWarning("API server {Configured} unreachable ({Reason}); connected to {Address}, last seen in the {Namespace}/{Service} EndpointSlice (saved in {File})",
                        $"{context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}", first.Message, address, ApiServerAddressFile.ServiceNamespace, ApiServerAddressFile.ServiceName, addresses.Path);
                return stream;
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                logger.LogDebug("Saved API server address {Address} unreachable: {Reason}", address, e.Message);
            }
        }
        throw first is SocketException socket ? socket : new HttpRequestException(first.Message, first);
    }

    private async Task<Stream> ConnectOneAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endPoint, deadline.Token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connecting to {endPoint} timed out after {ConnectTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
