using CgroupLb.Datapath.Status;

namespace CgroupLb.Agent.Metrics;

/// <summary>
/// The last <see cref="DatapathStatus"/> read from the pinned maps, read again only when it is older than
/// <see cref="MaxAge"/>: a scrape (or several Prometheus servers scraping at once) costs one map dump per MaxAge at
/// most, however often it comes. Reading never writes the maps. A failed read keeps the previous snapshot and throws.
/// </summary>
internal sealed class StatusSnapshotCache(Func<DatapathStatus> read, TimeProvider time, TimeSpan maxAge)
{
    private readonly object gate = new();
    private DatapathStatus? snapshot;
    private long readAt;

    public TimeSpan MaxAge => maxAge;

    /// <summary>How many times the maps were read (for tests and the reads metric).</summary>
    public int Reads { get; private set; }

    /// <summary>The cached snapshot, read first if none exists or it expired; the bool says whether it was just read.</summary>
    public (DatapathStatus Status, bool Fresh) Get()
    {
        lock (gate)
        {
            if (snapshot is not null && time.GetElapsedTime(readAt) < maxAge)
                return (snapshot, false);
            var status = read();
            snapshot = status;
            readAt = time.GetTimestamp();
            Reads++;
            return (status, true);
        }
    }
}
