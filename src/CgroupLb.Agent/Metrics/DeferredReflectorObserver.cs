using CgroupLb.Kubernetes.Reflection;
using k8s;

namespace CgroupLb.Agent.Metrics;

/// <summary>
/// The Kubernetes source is built before the data path (so config errors come first), the metrics after it; this
/// forwards watch observations to the metrics once they exist.
/// </summary>
internal sealed class DeferredReflectorObserver(Func<IReflectorObserver?> target) : IReflectorObserver
{
    public void OnWatchEvent(string kind, WatchEventType type) => target()?.OnWatchEvent(kind, type);
    public void OnWatchRestart(string kind, WatchRestartReason reason) => target()?.OnWatchRestart(kind, reason);
    public void OnRelist(string kind, int objects, int changes) => target()?.OnRelist(kind, objects, changes);
    public void OnError(string kind, ReflectorErrorKind errorKind) => target()?.OnError(kind, errorKind);
}
