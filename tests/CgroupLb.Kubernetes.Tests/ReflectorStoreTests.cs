using CgroupLb.Kubernetes.Reflection;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

public sealed class ReflectorStoreTests
{
    [Fact]
    public void WatchEventsChangeTheStoreOnlyWhenTheResourceVersionMoves()
    {
        var store = new ReflectorStore<V1Service>();
        var v1 = Service("web", "1");

        Assert.Equal((null, "1"), Versions(store.Apply(WatchEventType.Added, v1)));
        Assert.Null(store.Apply(WatchEventType.Modified, Service("web", "1")));

        var v2 = Service("web", "2");
        Assert.Equal(("1", "2"), Versions(store.Apply(WatchEventType.Modified, v2)));
        Assert.Equal(("2", null), Versions(store.Apply(WatchEventType.Deleted, Service("web", "3"))));
        Assert.Null(store.Apply(WatchEventType.Deleted, Service("web", "4")));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void ARelistKeepsWhatTheStoreHasForAnObjectItRefused()
    {
        var store = new ReflectorStore<V1Service>();
        store.Replace([Service("a", "1"), Service("b", "1"), Service("c", "1")]);

        // b was in the list but could not be decoded; c is really gone.
        var changes = store.Replace([Service("a", "2")], new HashSet<string> { "default/b" });

        Assert.Equal([("1", "2"), ("1", null)], changes.Select(c => Versions(c)));
        Assert.Equal("1", store.Get("default/b")!.Metadata.ResourceVersion);
        Assert.Null(store.Get("default/c"));
    }

    [Fact]
    public void ReplaceReportsUpdatesCreationsAndDeletionsButNotUnchangedObjects()
    {
        var store = new ReflectorStore<V1Service>();
        var unchanged = Service("a", "1");
        var changedBefore = Service("b", "2");
        var vanished = Service("c", "3");
        store.Replace([unchanged, changedBefore, vanished]);

        var changedAfter = Service("b", "5");
        var created = Service("d", "6");
        var changes = store.Replace([Service("a", "1"), changedAfter, created]);

        Assert.Equal([("2", "5"), (null, "6"), ("3", null)], changes.Select(c => Versions(c)));
        Assert.Same(changedAfter, changes[0].Current);
        Assert.Equal("1", store.Get("default/a")!.Metadata.ResourceVersion);
        Assert.Equal(3, store.Count);
    }

    [Fact]
    public void TheStoreKeepsIdentityAndVersionOnlyNotTheWholeObject()
    {
        var store = new ReflectorStore<V1Service>();
        var full = Service("web", "7");
        full.Metadata.Uid = "u-1";
        full.Metadata.ManagedFields = [new V1ManagedFieldsEntry { Manager = "kubectl" }];
        full.Metadata.Annotations = new Dictionary<string, string> { ["big"] = new string('x', 10_000) };
        store.Apply(WatchEventType.Added, full);

        var kept = store.Get("default/web")!;
        Assert.NotSame(full, kept);
        Assert.Equal(("web", "default", "u-1", "7"), (kept.Metadata.Name, kept.Metadata.NamespaceProperty, kept.Metadata.Uid, kept.Metadata.ResourceVersion));
        Assert.Null(kept.Metadata.ManagedFields);
        Assert.Null(kept.Metadata.Annotations);
        Assert.Null(kept.Spec);
    }

    private static (string?, string?) Versions(ObjectChange<V1Service>? change) =>
        (change!.Value.Previous?.Metadata.ResourceVersion, change.Value.Current?.Metadata.ResourceVersion);

    [Fact]
    public void KeysAreNamespaceSlashNameOrJustTheNameForClusterScopedObjects()
    {
        Assert.Equal("default/web", ReflectorStore<V1Service>.KeyOf(Service("web", "1")));
        Assert.Equal("node-a", ReflectorStore<V1Node>.KeyOf(new V1Node { Metadata = new V1ObjectMeta { Name = "node-a" } }));
        Assert.Null(ReflectorStore<V1Node>.KeyOf(new V1Node { Metadata = new V1ObjectMeta() }));
    }

    [Fact]
    public void AnObjectWithoutAResourceVersionIsAlwaysAChange()
    {
        var store = new ReflectorStore<V1Service>();
        store.Apply(WatchEventType.Added, Service("web", null));
        Assert.NotNull(store.Apply(WatchEventType.Modified, Service("web", null)));
    }

    private static V1Service Service(string name, string? resourceVersion) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", ResourceVersion = resourceVersion },
    };
}
