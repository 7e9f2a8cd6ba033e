using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Kubernetes.ApiServer;

/// <summary>
/// Forwards every change to the next sink and saves the addresses of the `kubernetes` EndpointSlice as they change,
/// for <see cref="ApiServerFallbackConnector"/> after a restart. A failed save is logged and never stops the source.
/// </summary>
public sealed class ApiServerAddressRecorder(IClusterChangeSink next, ApiServerAddressFile file, ILogger logger) : IClusterChangeSink
{
    public void OnService(V1Service? previous, V1Service? current) => next.OnService(previous, current);

    public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current)
    {
        next.OnEndpointSlice(previous, current);
        if (!ApiServerAddressFile.IsApiServerSlice(current))
            return;
        var addresses = ApiServerAddressFile.AddressesOf(current!);
        try
        {
            if (file.Save(addresses))
                logger.LogInformation("API server addresses saved to {File}: {Addresses}", file.Path, string.Join(", ", addresses));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not save the API server addresses to {File}: {Reason}", file.Path, e.Message);
        }
    }

    public void OnNode(V1Node? previous, V1Node? current) => next.OnNode(previous, current);

    public void OnSynced(string source) => next.OnSynced(source);

    public void OnServiceHeld(ServiceName service, bool held) => next.OnServiceHeld(service, held);
}
