using CgroupLb.Model.Changes;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// Records every call and keeps the materialised view the calls imply, per kind. It also checks the contract as it
/// goes: "previous" must be exactly what it last received for that key, "created" must not repeat a key, calls
/// must not overlap. Breaches go to <see cref="Violations"/>, which every test asserts empty.
/// </summary>
public sealed class RecordingChangeSink : IClusterChangeSink
{
    public const string ServicesKind = "services";
    public const string EndpointSlicesKind = "endpointslices";
    public const string NodeKind = "node";
    public const string SyncedKind = "synced";

    private readonly Lock gate = new();
    private readonly List<Entry> entries = [];
    private readonly List<string> violations = [];
    private readonly Dictionary<string, Dictionary<string, IKubernetesObject<V1ObjectMeta>>> viewByKind = new()
    {
        [ServicesKind] = new(StringComparer.Ordinal),
        [EndpointSlicesKind] = new(StringComparer.Ordinal),
        [NodeKind] = new(StringComparer.Ordinal),
    };

    private int inCall;

    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (gate)
            {
                return violations.ToList();
            }
        }
    }

    public void OnService(V1Service? previous, V1Service? current) => Record(ServicesKind, previous, current);

    public void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current) => Record(EndpointSlicesKind, previous, current);

    public void OnNode(V1Node? previous, V1Node? current) => Record(NodeKind, previous, current);

    /// <summary>The API watch always knows its objects: it never holds a service, so a call is a contract breach.</summary>
    public void OnServiceHeld(CgroupLb.Model.Kubernetes.ServiceName service, bool held) =>
        throw new InvalidOperationException($"the Kubernetes source held {service}");

    public void OnSynced(string source)
    {
        Enter();
        lock (gate)
        {
            if (entries.Any(e => e.Kind == SyncedKind && e.Key == source))
            {
                violations.Add($"OnSynced({source}) called twice");
            }

            entries.Add(new Entry(SyncedKind, source, ChangeType.Synced, null, null));
        }

        Leave();
    }

    public bool IsSynced(string source)
    {
        lock (gate)
        {
            return entries.Any(e => e.Kind == SyncedKind && e.Key == source);
        }
    }

    /// <summary>Entries from index <paramref name="start"/> on (take <see cref="Count"/> as a mark before acting).</summary>
    public IReadOnlyList<Entry> EntriesSince(int start = 0)
    {
        lock (gate)
        {
            return entries.Skip(start).ToList();
        }
    }

    /// <summary>key -> resourceVersion of the view for one kind, comparable with FakeApiServer.Versions.</summary>
    public IReadOnlyDictionary<string, string> Versions(string kind)
    {
        lock (gate)
        {
            return viewByKind[kind].ToDictionary(pair => pair.Key, pair => pair.Value.Metadata.ResourceVersion, StringComparer.Ordinal);
        }
    }

    public IKubernetesObject<V1ObjectMeta>? Get(string kind, string key)
    {
        lock (gate)
        {
            return viewByKind[kind].GetValueOrDefault(key);
        }
    }

    private void Record(string kind, IKubernetesObject<V1ObjectMeta>? previous, IKubernetesObject<V1ObjectMeta>? current)
    {
        Enter();
        lock (gate)
        {
            var subject = current ?? previous;
            if (subject is null)
            {
                violations.Add($"{kind}: called with previous and current both null");
                Leave();
                return;
            }

            var key = KeyOf(subject);
            var view = viewByKind[kind];
            view.TryGetValue(key, out var known);
            if (previous is null && known is not null)
            {
                violations.Add($"{kind} {key}: reported as created but already known at {known.Metadata.ResourceVersion}");
            }
            else if (previous is not null && known is null)
            {
                violations.Add($"{kind} {key}: previous given at {previous.Metadata.ResourceVersion} but the key was never reported");
            }
            else if (previous is not null && known is not null && previous.Metadata.ResourceVersion != known.Metadata.ResourceVersion)
            {
                violations.Add($"{kind} {key}: previous {previous.Metadata.ResourceVersion} is not the last reported {known.Metadata.ResourceVersion}");
            }

            if (previous is not null && current is not null && previous.Metadata.ResourceVersion == current.Metadata.ResourceVersion)
            {
                violations.Add($"{kind} {key}: update without a change (resourceVersion {current.Metadata.ResourceVersion})");
            }

            if (current is null)
            {
                view.Remove(key);
            }
            else
            {
                view[key] = current;
            }

            var type = previous is null ? ChangeType.Created : current is null ? ChangeType.Deleted : ChangeType.Updated;
            entries.Add(new Entry(kind, key, type, previous?.Metadata.ResourceVersion, current?.Metadata.ResourceVersion));
        }

        Leave();
    }

    private void Enter()
    {
        if (Interlocked.Increment(ref inCall) != 1)
        {
            lock (gate)
            {
                violations.Add("sink called concurrently");
            }
        }
    }

    private void Leave() => Interlocked.Decrement(ref inCall);

    private static string KeyOf(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.NamespaceProperty is { } ns ? $"{ns}/{obj.Metadata.Name}" : obj.Metadata.Name;

    public enum ChangeType
    {
        Created,
        Updated,
        Deleted,
        Synced,
    }

    public sealed record Entry(string Kind, string Key, ChangeType Type, string? PreviousVersion, string? CurrentVersion);
}
