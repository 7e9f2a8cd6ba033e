using System.Collections.Concurrent;
using CgroupLb.Kubernetes.Reflection;
using k8s;

namespace CgroupLb.Kubernetes.Tests;

public sealed class RecordingReflectorObserver : IReflectorObserver
{
    private readonly ConcurrentQueue<(string Kind, WatchEventType Type)> watchEvents = new();
    private readonly ConcurrentQueue<(string Kind, WatchRestartReason Reason)> restarts = new();
    private readonly ConcurrentQueue<(string Kind, int Objects, int Changes)> relists = new();
    private readonly ConcurrentQueue<(string Kind, ReflectorErrorKind ErrorKind)> errors = new();

    public void OnWatchEvent(string kind, WatchEventType type) => watchEvents.Enqueue((kind, type));

    public void OnWatchRestart(string kind, WatchRestartReason reason) => restarts.Enqueue((kind, reason));

    public void OnRelist(string kind, int objects, int changes) => relists.Enqueue((kind, objects, changes));

    public void OnError(string kind, ReflectorErrorKind errorKind) => errors.Enqueue((kind, errorKind));

    public int WatchEvents(string kind, WatchEventType type) => watchEvents.Count(e => e.Kind == kind && e.Type == type);

    public int Restarts(string kind, WatchRestartReason reason) => restarts.Count(e => e.Kind == kind && e.Reason == reason);

    public IReadOnlyList<(int Objects, int Changes)> Relists(string kind) =>
        relists.Where(e => e.Kind == kind).Select(e => (e.Objects, e.Changes)).ToList();

    public int Errors(string kind, ReflectorErrorKind errorKind) => errors.Count(e => e.Kind == kind && e.ErrorKind == errorKind);

    public string Describe() =>
        $"restarts [{string.Join(", ", restarts)}], errors [{string.Join(", ", errors)}], relists [{string.Join(", ", relists)}], " +
        $"events {watchEvents.Count}";

    public int Errors(string kind) => errors.Count(e => e.Kind == kind);
}
