using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// One decoded watch event: its type and object; for a refused object (<see cref="Refused"/>) no object; for ERROR the
/// Status it carried (<see cref="Status"/>) and no object.
/// </summary>
public readonly record struct WatchEventLine<T>(WatchEventType Type, T? Object)
    where T : class
{
    /// <summary>The event's object could not be decoded; it is refused alone and later events apply.</summary>
    public RefusedObject? Refused { get; init; }

    /// <summary>The Status of an ERROR event.</summary>
    public V1Status? Status { get; init; }
}
