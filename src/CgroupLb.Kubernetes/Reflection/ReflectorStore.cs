using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// The reflector's picture of one resource kind, keyed by namespace/name. The resourceVersion is what decides whether
/// an object changed: the API server gives every write a new one, so equal versions mean the same content and
/// produce no change. That is what keeps a relist from re-announcing every object.
/// <para>
/// The store keeps each object's identity and resourceVersion only (<see cref="Retained"/>), never the whole object:
/// the model parses what it needs from the current object when it arrives, and a Service or EndpointSlice from the
/// API server carries managedFields and annotations that would otherwise stay in memory for every object of a large
/// cluster. The "previous" of a change is that retained copy.
/// </para>
/// </summary>
internal sealed class ReflectorStore<T>
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private readonly Dictionary<string, T> objectByKey = new(StringComparer.Ordinal);

    public int Count => objectByKey.Count;

    public IReadOnlyCollection<T> Objects => objectByKey.Values;

    /// <summary>namespace/name, or name for cluster-scoped kinds; null for an object the server sent without a name.</summary>
    public static string? KeyOf(T obj)
    {
        var metadata = obj.Metadata;
        if (string.IsNullOrEmpty(metadata?.Name))
        {
            return null;
        }

        return string.IsNullOrEmpty(metadata.NamespaceProperty) ? metadata.Name : $"{metadata.NamespaceProperty}/{metadata.Name}";
    }

    public T? Get(string key) => objectByKey.GetValueOrDefault(key);

    /// <summary>Applies one watch event; null when it changes nothing (same resourceVersion, or delete of an unknown key).</summary>
    public ObjectChange<T>? Apply(WatchEventType type, T obj)
    {
        var key = KeyOf(obj) ?? throw new ArgumentException("object has no metadata.name", nameof(obj));
        switch (type)
        {
            case WatchEventType.Added:
            case WatchEventType.Modified:
                objectByKey.TryGetValue(key, out var existing);
                if (existing is not null && SameVersion(existing, obj))
                {
                    return null;
                }

                objectByKey[key] = Retained(obj);
                return new ObjectChange<T>(existing, obj);

            case WatchEventType.Deleted:
                return objectByKey.Remove(key, out var removed) ? new ObjectChange<T>(removed, null) : null;

            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "only ADDED, MODIFIED and DELETED change the store");
        }
    }

    /// <summary>
    /// Makes the store equal to a complete list and returns only the differences: updates and creations in list
    /// order, then deletions of keys the list no longer has, in key order. Nameless objects are skipped. Keys in
    /// <paramref name="refusedKeys"/> were in the list but could not be decoded: what the store has for them stays.
    /// </summary>
    public IReadOnlyList<ObjectChange<T>> Replace(IEnumerable<T> listed, IReadOnlySet<string>? refusedKeys = null)
    {
        var changes = new List<ObjectChange<T>>();
        var listedByKey = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var obj in listed)
        {
            var key = KeyOf(obj);
            if (key is not null)
            {
                listedByKey[key] = obj;
            }
        }

        foreach (var (key, obj) in listedByKey)
        {
            if (Upsert(key, obj) is { } change)
            {
                changes.Add(change);
            }
        }

        var vanishedKeys = objectByKey.Keys.Where(key => !listedByKey.ContainsKey(key) && refusedKeys?.Contains(key) != true).Order(StringComparer.Ordinal).ToList();
        foreach (var key in vanishedKeys)
        {
            objectByKey.Remove(key, out var removed);
            changes.Add(new ObjectChange<T>(removed, null));
        }

        return changes;
    }

    /// <summary>
    /// Stores one listed object as created or updated; null when it changes nothing (same resourceVersion) or has no
    /// name (skipped, as <see cref="Replace"/> skips it). Deletes nothing: only a complete list can say what vanished.
    /// </summary>
    public ObjectChange<T>? Upsert(T obj) => KeyOf(obj) is { } key ? Upsert(key, obj) : null;

    private ObjectChange<T>? Upsert(string key, T obj)
    {
        objectByKey.TryGetValue(key, out var existing);
        if (existing is not null && SameVersion(existing, obj))
        {
            return null;
        }

        objectByKey[key] = Retained(obj);
        return new ObjectChange<T>(existing, obj);
    }

    /// <summary>What the store keeps of an object: kind, name, namespace, uid and resourceVersion.</summary>
    public static T Retained(T obj) => new()
    {
        ApiVersion = obj.ApiVersion,
        Kind = obj.Kind,
        Metadata = new V1ObjectMeta
        {
            Name = obj.Metadata?.Name,
            NamespaceProperty = obj.Metadata?.NamespaceProperty,
            Uid = obj.Metadata?.Uid,
            ResourceVersion = obj.Metadata?.ResourceVersion,
        },
    };

    private static bool SameVersion(T a, T b)
    {
        var versionA = a.Metadata?.ResourceVersion;
        return !string.IsNullOrEmpty(versionA) && string.Equals(versionA, b.Metadata?.ResourceVersion, StringComparison.Ordinal);
    }
}
