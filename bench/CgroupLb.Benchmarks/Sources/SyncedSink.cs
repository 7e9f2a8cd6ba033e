using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using k8s.Models;

namespace CgroupLb.Benchmarks.Sources;

/// <summary>Forwards to a tracker and raises <see cref="Synced"/> once the tracker is synced (every required source said so).</summary>
internal sealed class SyncedSink(ClusterChangeTracker tracker) : IClusterChangeSink
{
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Synced => synced.Task;

    public void OnService(V1Service? previous, V1Service? current) => tracker.OnService(previous, current);

    public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current) => tracker.OnEndpointSlice(previous, current);

    public void OnNode(V1Node? previous, V1Node? current) => tracker.OnNode(previous, current);

    public void OnServiceHeld(ServiceName service, bool held) => tracker.OnServiceHeld(service, held);

    public void OnSynced(string source)
    {
        tracker.OnSynced(source);
        if (tracker.IsSynced)
        {
            synced.TrySetResult();
        }
    }
}
