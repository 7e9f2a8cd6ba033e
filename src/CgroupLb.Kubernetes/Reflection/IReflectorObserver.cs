using k8s;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// Hooks for metrics, kept free of any metrics library. <c>kind</c> is the reflector's name ("services",
/// "endpointslices", "node"), a small fixed set that is safe as a label. Calls come from the reflectors' own
/// tasks, several at once: implementations must be thread-safe and quick.
/// </summary>
public interface IReflectorObserver
{
    /// <summary>Every event read from a watch, bookmarks included, before it is applied.</summary>
    void OnWatchEvent(string kind, WatchEventType type);

    void OnWatchRestart(string kind, WatchRestartReason reason);

    /// <summary>A complete list was applied: <paramref name="objects"/> listed, <paramref name="changes"/> emitted.</summary>
    void OnRelist(string kind, int objects, int changes);

    void OnError(string kind, ReflectorErrorKind errorKind);
}
