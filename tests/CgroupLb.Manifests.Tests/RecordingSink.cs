using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using k8s;
using k8s.Models;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// One call the source made: Kind is "Service", "EndpointSlice", "Node", "Synced" (Source: the source name), or "Held"
/// and "Released" (Source: the service's namespace/name).
/// </summary>
internal sealed record SinkCall(string Kind, IKubernetesObject<V1ObjectMeta>? Previous, IKubernetesObject<V1ObjectMeta>? Current, string? Source = null)
{
    public string Name => (Current ?? Previous)?.Metadata.Name ?? Source ?? "";

    public override string ToString() =>
        Kind is "Synced" or "Held" or "Released" ? $"{Kind} {Source}" : $"{Kind} {(Previous is null ? "+" : Current is null ? "-" : "~")}{Name}";
}

/// <summary>Records every sink call, in order, and lets a test wait (bounded) for a condition over them.</summary>
internal sealed class RecordingSink : IClusterChangeSink
{
    private readonly object gate = new();
    private readonly List<SinkCall> calls = [];

    public IReadOnlyList<SinkCall> Calls
    {
        get
        {
            lock (gate)
            {
                return [.. calls];
            }
        }
    }

    public void OnService(V1Service? previous, V1Service? current) => Add(new SinkCall("Service", previous, current));

    public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current) =>
        Add(new SinkCall("EndpointSlice", previous, current));

    public void OnNode(V1Node? previous, V1Node? current) => Add(new SinkCall("Node", previous, current));

    public void OnSynced(string source) => Add(new SinkCall("Synced", null, null, source));

    public void OnServiceHeld(ServiceName service, bool held) =>
        Add(new SinkCall(held ? "Held" : "Released", null, null, service.ToString()));

    public async Task<IReadOnlyList<SinkCall>> WaitForAsync(
        Func<IReadOnlyList<SinkCall>, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var snapshot = Calls;
            if (condition(snapshot))
            {
                return snapshot;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited for {what}; calls so far: {string.Join(", ", snapshot)}");
            }

            await Task.Delay(20);
        }
    }

    private void Add(SinkCall call)
    {
        lock (gate)
        {
            calls.Add(call);
        }
    }
}
