using CgroupLb.Agent.Hosting;
using CgroupLb.Model.Sync;

namespace CgroupLb.Agent.Tests;

/// <summary>The start's memory is given back once, after the first sync that wrote the maps, and never before.</summary>
public sealed class MemoryTrimAfterInitialSyncTests
{
    private sealed class Recorder : ISyncObserver
    {
        public List<SyncResult> Seen { get; } = [];
        public void OnSyncCompleted(SyncResult result) => Seen.Add(result);
    }

    private static SyncResult Result(SyncKind kind, Exception? error = null) =>
        new(kind, 1, 1, 0, 10, TimeSpan.FromMilliseconds(5), error);

    [Fact]
    public void TrimsOnceAfterTheFirstSuccessfulSyncAndForwardsEveryResult()
    {
        var next = new Recorder();
        int trims = 0;
        var observer = new MemoryTrimAfterInitialSync(next, () => trims++);

        observer.OnSyncCompleted(Result(SyncKind.NotSynced));
        observer.OnSyncCompleted(Result(SyncKind.Full, new InvalidOperationException("map update failed")));
        Assert.Equal(0, trims);

        observer.OnSyncCompleted(Result(SyncKind.Full));
        Assert.Equal(1, trims);

        observer.OnSyncCompleted(Result(SyncKind.Partial));
        observer.OnSyncCompleted(Result(SyncKind.Full));
        Assert.Equal(1, trims);
        Assert.Equal(5, next.Seen.Count);
    }
}
