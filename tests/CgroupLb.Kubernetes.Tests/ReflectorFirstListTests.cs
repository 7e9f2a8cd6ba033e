using System.Runtime.CompilerServices;
using CgroupLb.Kubernetes.Reflection;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// A list into an empty store is delivered page by page (its objects are not all held until the last page); any other
/// list only once complete. Either way OnSynced waits for a complete list, and a list that fails part-way deletes nothing.
/// </summary>
public sealed class ReflectorFirstListTests
{
    [Fact(Timeout = 30_000)]
    public async Task TheFirstListIsDeliveredPageByPageAndSyncedOnlyAfterItsLastPage()
    {
        var delivered = new List<string>();
        var deliveredBeforeSecondPage = -1;
        var syncedBeforeSecondPage = false;
        var synced = new TaskCompletionSource();
        var api = new ResourceApi<V1Service>(
            (continueToken, _, _) =>
            {
                if (continueToken is null)
                    return Task.FromResult(new ResourceListPage<V1Service>([Service("a", "1"), Service("b", "1")], "10", "page-2"));
                lock (delivered) deliveredBeforeSecondPage = delivered.Count;
                syncedBeforeSecondPage = synced.Task.IsCompleted;
                return Task.FromResult(new ResourceListPage<V1Service>([Service("c", "1")], "10", null));
            },
            (_, _, _, ct) => Silent(ct));
        var reflector = new Reflector<V1Service>("services", api, new ReflectorOptions(),
            change => { lock (delivered) delivered.Add($"{change.Previous?.Metadata.Name}->{change.Current?.Metadata.Name}"); },
            () => synced.TrySetResult());
        using var stop = new CancellationTokenSource();
        var run = reflector.RunAsync(stop.Token);

        await synced.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, deliveredBeforeSecondPage);
        Assert.False(syncedBeforeSecondPage);
        Assert.Equal(["->a", "->b", "->c"], delivered);
        Assert.Equal("10", reflector.ResourceVersion);
        await stop.CancelAsync();
        await run;
    }

    [Fact(Timeout = 30_000)]
    public async Task AFirstListThatFailsPartWayIsRetriedAsARelistThatDeletesOnlyWhatTheCompleteListLacks()
    {
        var delivered = new List<string>();
        var lists = 0;
        var synced = new TaskCompletionSource();
        var api = new ResourceApi<V1Service>(
            (continueToken, _, _) =>
            {
                if (continueToken is null)
                {
                    // The first attempt lists a and b, then its second page fails; by the retry, b is gone and a changed.
                    return Interlocked.Increment(ref lists) == 1
                        ? Task.FromResult(new ResourceListPage<V1Service>([Service("a", "1"), Service("b", "1")], "10", "page-2"))
                        : Task.FromResult(new ResourceListPage<V1Service>([Service("a", "2"), Service("c", "1")], "20", null));
                }
                throw new HttpRequestException("connection reset");
            },
            (_, _, _, ct) => Silent(ct));
        var reflector = new Reflector<V1Service>("services", api,
            new ReflectorOptions { BackoffInitial = TimeSpan.FromMilliseconds(1), BackoffMax = TimeSpan.FromMilliseconds(1) },
            change =>
            {
                lock (delivered) delivered.Add($"{change.Previous?.Metadata.ResourceVersion}->{change.Current?.Metadata.ResourceVersion} {(change.Current ?? change.Previous)!.Metadata.Name}");
            },
            () => synced.TrySetResult());
        using var stop = new CancellationTokenSource();
        var run = reflector.RunAsync(stop.Token);

        await synced.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The half-read first list delivered its first page; the complete relist updated a, created c, deleted b.
        Assert.Equal(["->1 a", "->1 b", "1->2 a", "->1 c", "1-> b"], delivered);
        Assert.Equal(2, Volatile.Read(ref lists));
        Assert.Equal("20", reflector.ResourceVersion);
        await stop.CancelAsync();
        await run;
    }

    private static V1Service Service(string name, string resourceVersion) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", ResourceVersion = resourceVersion },
    };

    private static async IAsyncEnumerable<(WatchEventType, V1Service)> Silent([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield break;
    }
}
