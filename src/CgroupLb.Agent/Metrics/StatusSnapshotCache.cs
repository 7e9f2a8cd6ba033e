using CgroupLb.Datapath.Status;

namespace CgroupLb.Agent.Metrics;

/// <summary>
/// The last <see cref="DatapathStatus"/> read from the pinned maps. Only the very first scrape waits for a read;
/// after that a scrape gets the snapshot it finds and, when that is older than <see cref="MaxAge"/>, starts one read
/// in the background for the next scrape. So a scrape never dumps the maps, the maps are read at most once per MaxAge
/// however many scrapers there are, and not at all while nobody scrapes. Reading never writes the maps. A failed read
/// keeps the previous snapshot and is reported to <c>onError</c>.
/// </summary>
internal sealed class StatusSnapshotCache(
    Func<DatapathStatus> read, TimeProvider time, TimeSpan maxAge, Action<Action>? startRefresh = null, Action<Exception>? onError = null)
{
    private readonly object gate = new();
    private readonly Action<Action> startRefresh = startRefresh ?? (work => _ = Task.Run(work));
    private DatapathStatus? snapshot;
    private long version;
    private long readAt;
    private bool refreshing;

    public TimeSpan MaxAge => maxAge;

    /// <summary>How many times the maps were read.</summary>
    public int Reads { get; private set; }

    /// <summary>
    /// The current snapshot and its version (which changes with every read), or null when the first read failed.
    /// </summary>
    public (DatapathStatus? Status, long Version) Get()
    {
        bool first;
        lock (gate)
        {
            first = snapshot is null && !refreshing;
            bool stale = snapshot is not null && time.GetElapsedTime(readAt) >= maxAge && !refreshing;
            if (!first && !stale)
                return (snapshot, version);
            refreshing = true;
        }
        if (first)
            Refresh();
        else
            startRefresh(Refresh);
        lock (gate)
            return (snapshot, version);
    }

    private void Refresh()
    {
        try
        {
            var status = read();
            lock (gate)
            {
                snapshot = status;
                version++;
                readAt = time.GetTimestamp();
                Reads++;
            }
        }
        catch (Exception e)
        {
            lock (gate)
                readAt = time.GetTimestamp(); // retried after MaxAge, not on every scrape
            onError?.Invoke(e);
        }
        finally
        {
            lock (gate)
                refreshing = false;
        }
    }
}
