using k8s;

namespace CgroupLb.Kubernetes.Reflection;

public sealed class NullReflectorObserver : IReflectorObserver
{
    public static readonly NullReflectorObserver Instance = new();

    private NullReflectorObserver()
    {
    }

    public void OnWatchEvent(string kind, WatchEventType type)
    {
    }

    public void OnWatchRestart(string kind, WatchRestartReason reason)
    {
    }

    public void OnRelist(string kind, int objects, int changes)
    {
    }

    public void OnError(string kind, ReflectorErrorKind errorKind)
    {
    }
}
