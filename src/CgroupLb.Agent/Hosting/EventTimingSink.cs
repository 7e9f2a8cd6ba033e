using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using k8s.Models;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Passes changes on to the tracker and remembers when the oldest change not yet written arrived, so the agent can
/// report the time from event received to map written.
/// </summary>
internal sealed class EventTimingSink(IClusterChangeSink inner, TimeProvider time) : IClusterChangeSink
{
    private long oldestPending; // TimeProvider timestamp; 0 = nothing pending

    public void OnService(V1Service? previous, V1Service? current) { Mark(); inner.OnService(previous, current); }
    public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current) { Mark(); inner.OnEndpointSlice(previous, current); }
    public void OnNode(V1Node? previous, V1Node? current) { Mark(); inner.OnNode(previous, current); }
    public void OnSynced(string source) => inner.OnSynced(source);
    public void OnServiceHeld(ServiceName service, bool held) { Mark(); inner.OnServiceHeld(service, held); }

    /// <summary>Seconds since the oldest unwritten change, and forgets it; null when none was pending.</summary>
    public double? TakePendingAge()
    {
        long since = Interlocked.Exchange(ref oldestPending, 0);
        return since == 0 ? null : time.GetElapsedTime(since).TotalSeconds;
    }

    /// <summary>How long the oldest unwritten change has waited, without forgetting it; null when none is pending.</summary>
    public TimeSpan? PendingAge
    {
        get
        {
            long since = Interlocked.Read(ref oldestPending);
            return since == 0 ? null : time.GetElapsedTime(since);
        }
    }

    private void Mark() => Interlocked.CompareExchange(ref oldestPending, time.GetTimestamp(), 0);
}
