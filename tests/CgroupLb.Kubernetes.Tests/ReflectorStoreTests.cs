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

        Assert.Equal(new ObjectChange<V1Service>(null, v1), store.Apply(WatchEventType.Added, v1));
        Assert.Null(store.Apply(WatchEventType.Modified, Service("web", "1")));

        var v2 = Service("web", "2");
        Assert.Equal(new ObjectChange<V1Service>(v1, v2), store.Apply(WatchEventType.Modified, v2));
        Assert.Equal(new ObjectChange<V1Service>(v2, null), store.Apply(WatchEventType.Deleted, Service("web", "3")));
        Assert.Null(store.Apply(WatchEventType.Deleted, Service("web", "4")));
        Assert.Equal(0, store.Count);
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

        Assert.Equal(
            [
                new ObjectChange<V1Service>(changedBefore, changedAfter),
                new ObjectChange<V1Service>(null, created),
                new ObjectChange<V1Service>(vanished, null),
            ],
            changes);
        Assert.Same(unchanged, store.Get("default/a"));
        Assert.Equal(3, store.Count);
    }

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
