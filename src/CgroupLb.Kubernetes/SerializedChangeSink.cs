using CgroupLb.Model.Changes;
using k8s.Models;

namespace CgroupLb.Kubernetes;

/// <summary>
/// Funnels the reflectors' concurrent calls into one at a time, so a sink (the change trackers) never has to be
/// thread-safe against its own source.
/// </summary>
internal sealed class SerializedChangeSink : IClusterChangeSink
{
    private readonly IClusterChangeSink inner;
    private readonly Lock gate = new();

    public SerializedChangeSink(IClusterChangeSink inner) => this.inner = inner;

    public void OnService(V1Service? previous, V1Service? current)
    {
        lock (gate)
        {
            inner.OnService(previous, current);
        }
    }

    public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current)
    {
        lock (gate)
        {
            inner.OnEndpointSlice(previous, current);
        }
    }

    public void OnNode(V1Node? previous, V1Node? current)
    {
        lock (gate)
        {
            inner.OnNode(previous, current);
        }
    }

    public void OnSynced(string source)
    {
        lock (gate)
        {
            inner.OnSynced(source);
        }
    }

    public void OnServiceHeld(CgroupLb.Model.Kubernetes.ServiceName service, bool held)
    {
        lock (gate)
        {
            inner.OnServiceHeld(service, held);
        }
    }
}
