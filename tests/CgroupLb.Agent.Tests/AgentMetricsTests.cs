using System.Collections.Immutable;
using System.Net;
using CgroupLb.Agent.Metrics;
using CgroupLb.Datapath.Status;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;
using Prometheus;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// The metric logic without a kernel: counters that stay monotonic across a BPF stats reset, per-Service series that
/// are opt-in and go with their Service, a scrape that reads the maps at most once per snapshot age, and the
/// programming-latency histogram with kube-proxy's buckets.
/// </summary>
public sealed class AgentMetricsTests
{
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset now = start;
        public void Advance(TimeSpan by) => now += by;
        public override DateTimeOffset GetUtcNow() => now;
        public override long GetTimestamp() => now.UtcTicks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    private static readonly DateTimeOffset Start = new(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);
    private readonly ManualClock clock = new(Start);
    private DatapathStatus current = Status();
    private int reads;
    private bool failReads;
    private readonly List<Action> pendingRefreshes = [];

    /// <summary>Runs the background reads scrapes started, as the thread pool would between two scrapes.</summary>
    private void RunRefreshes()
    {
        foreach (var refresh in pendingRefreshes.ToList())
            refresh();
        pendingRefreshes.Clear();
    }

    private static FrontendStatus Frontend(string name, int lastOctet, uint id, ulong translated, ulong refused = 0) =>
        new(new Frontend(IPAddress.Parse($"10.96.0.{lastOctet}"), 80, L4Protocol.Tcp), id, name, ServiceFlags.ClusterIp,
            [new BackendStatus(1, 1, new Backend(IPAddress.Parse("198.18.0.1"), 8080, L4Protocol.Tcp))],
            new ServiceCounters(translated, refused, 0), [], null);

    private static DatapathStatus Status(params FrontendStatus[] frontends) =>
        new(frontends, [new MapUsage("lb4_services", frontends.Length * 2, 100)], [], []);

    private (AgentMetrics Metrics, CollectorRegistry Registry) NewMetrics(bool perService, (int, int)? pending = null)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new AgentMetrics(registry, () => { if (failReads) throw new IOException("map gone"); reads++; return current; }, () => null, () => pending ?? (0, 0),
            new AgentMetricsOptions { PerService = perService, Time = clock, SnapshotMaxAge = TimeSpan.FromSeconds(5), StartRefresh = refresh => pendingRefreshes.Add(refresh) });
        return (metrics, registry);
    }

    private static async Task<string> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return "\n" + System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void CountersStayMonotonicAcrossAResetAndARecreatedService()
    {
        var counters = new MonotonicCounters<string>();
        Assert.Equal(10UL, counters.Advance("web", serviceId: 1, raw: 10));
        Assert.Equal(15UL, counters.Advance("web", 1, 15));
        Assert.Equal(18UL, counters.Advance("web", 1, 3));   // stats reset under the same id: 3 new calls
        Assert.Equal(38UL, counters.Advance("web", 7, 20));  // recreated with another id that already counted 20
        Assert.Equal(38UL, counters.Advance("web", 7, 20));
        Assert.Equal(["web"], counters.Retain(new HashSet<string>()));
        Assert.Equal(0, counters.Count);
        Assert.Equal(4UL, counters.Advance("web", 7, 4));    // gone and back: a new series from its current value
    }

    [Fact]
    public async Task MapPressureIsExportedPerMapUnderCiliumsNameFromTheSnapshot()
    {
        current = new DatapathStatus([], [new MapUsage("lb4_services_v2", 10, 100), new MapUsage("lb_affinity", 16384, 65536)], [], []);
        var (_, registry) = NewMetrics(perService: false);

        string text = await ScrapeAsync(registry);
        await ScrapeAsync(registry);

        Assert.Contains("\ncgroup_lb_bpf_map_pressure{map_name=\"lb_affinity\"} 0.25\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_bpf_map_pressure{map_name=\"lb4_services_v2\"} 0.1\n", text, StringComparison.Ordinal);
        Assert.Equal(1, reads); // two scrapes, one read of the maps
    }

    [Fact]
    public async Task PerServiceSeriesAreOptIn()
    {
        current = Status(Frontend("default/web:http", 1, 1, 5));
        var (_, registry) = NewMetrics(perService: false);
        string text = await ScrapeAsync(registry);
        Assert.Contains("\ncgroup_lb_frontends 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cgroup_lb_service_translations_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServiceRecreatedBetweenScrapesKeepsItsCounterRisingAndARemovedOneLosesItsSeries()
    {
        current = Status(Frontend("default/web:http", 1, 1, 100), Frontend("default/api:http", 2, 2, 7));
        var (_, registry) = NewMetrics(perService: true);
        string first = await ScrapeAsync(registry);
        Assert.Contains("\ncgroup_lb_service_translations_total{service=\"default/web:http\",frontend=\"10.96.0.1:80/TCP\"} 100\n", first, StringComparison.Ordinal);

        // web deleted and created again (new id, counters from zero) and api deleted, all within one snapshot age.
        current = Status(Frontend("default/web:http", 1, 9, 4));
        clock.Advance(TimeSpan.FromSeconds(6));
        await ScrapeAsync(registry); // finds the snapshot stale: starts a read, answers from the old snapshot
        RunRefreshes();
        string second = await ScrapeAsync(registry);
        Assert.Contains("\ncgroup_lb_service_translations_total{service=\"default/web:http\",frontend=\"10.96.0.1:80/TCP\"} 104\n", second, StringComparison.Ordinal);
        Assert.DoesNotContain("default/api:http", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyTheFirstScrapeReadsTheMapsAndLaterReadsRunOffTheScrapeAtMostOncePerAge()
    {
        current = Status(Frontend("default/web:http", 1, 1, 5));
        var (_, registry) = NewMetrics(perService: false);
        Assert.Contains("\ncgroup_lb_frontends 1\n", await ScrapeAsync(registry), StringComparison.Ordinal);
        await ScrapeAsync(registry);
        clock.Advance(TimeSpan.FromSeconds(4));
        await ScrapeAsync(registry);
        Assert.Equal(1, reads);
        Assert.Empty(pendingRefreshes);

        current = Status(Frontend("default/web:http", 1, 1, 5), Frontend("default/api:http", 2, 2, 0));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Contains("\ncgroup_lb_frontends 1\n", await ScrapeAsync(registry), StringComparison.Ordinal); // stale: answered at once
        await ScrapeAsync(registry);
        Assert.Single(pendingRefreshes); // one read however many scrapes found it stale
        Assert.Equal(1, reads);
        RunRefreshes();
        string text = await ScrapeAsync(registry);
        Assert.Equal(2, reads);
        Assert.Contains("\ncgroup_lb_frontends 2\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_map_snapshot_reads_total 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailedReadKeepsTheLastSnapshotAndCountsAnError()
    {
        current = Status(Frontend("default/web:http", 1, 1, 5));
        var (_, registry) = NewMetrics(perService: false);
        await ScrapeAsync(registry);
        failReads = true;
        clock.Advance(TimeSpan.FromSeconds(6));
        await ScrapeAsync(registry);
        RunRefreshes();
        string text = await ScrapeAsync(registry);
        Assert.Contains("\ncgroup_lb_frontends 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_errors_total{kind=\"status_read\"} 1\n", text, StringComparison.Ordinal);
        Assert.Empty(pendingRefreshes);
    }

    [Fact]
    public async Task ASyncObservesProgrammingLatencyFromEachTriggerTimeAndStampsTheLastSync()
    {
        var (metrics, registry) = NewMetrics(perService: false, pending: (2, 3));
        metrics.OnSyncCompleted(new SyncResult(SyncKind.Partial, 1, 1, 0, 1, TimeSpan.FromMilliseconds(3), null)
        {
            ChangeTriggerTimes = [Start.AddSeconds(-0.3), Start.AddSeconds(-1.5), Start.AddSeconds(2)],
        });
        string text = await ScrapeAsync(registry);
        Assert.Contains("\ncgroup_lb_network_programming_duration_seconds_count 3\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_network_programming_duration_seconds_bucket{le=\"0.25\"} 1\n", text, StringComparison.Ordinal); // the future one, as 0
        Assert.Contains("\ncgroup_lb_network_programming_duration_seconds_bucket{le=\"0.5\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_network_programming_duration_seconds_bucket{le=\"2\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_network_programming_duration_seconds_bucket{le=\"300\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains($"\ncgroup_lb_sync_proxy_rules_last_timestamp_seconds {Start.ToUnixTimeSeconds()}\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_sync_proxy_rules_service_changes_pending 2\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncgroup_lb_sync_proxy_rules_endpoint_changes_pending 3\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ProgrammingBucketsAreKubeProxys()
    {
        double[] buckets = AgentMetrics.NetworkProgrammingBuckets;
        Assert.Equal(2 + 59 + 12 + 7, buckets.Length);
        Assert.Equal([0.25, 0.5, 1, 2], buckets[..4]);
        Assert.Equal([59, 60, 65], buckets[60..63]);
        Assert.Equal([115, 120, 150], buckets[72..75]);
        Assert.Equal(300, buckets[^1]);
        Assert.Equal(buckets.Order(), buckets);
    }

    [Fact]
    public async Task BuildInfoAndRuntimeMetricsAreExported()
    {
        var (_, registry) = NewMetrics(perService: false);
        string text = await ScrapeAsync(registry);
        Assert.Contains("\ncgroup_lb_build_info{version=\"" + BuildInfo.Version + "\",commit=\"", text, StringComparison.Ordinal);
        foreach (var name in new[] { "process_cpu_seconds_total", "process_open_fds", "process_max_fds", "process_resident_memory_bytes", "process_start_time_seconds", "dotnet_total_memory_bytes", "dotnet_collection_count_total" })
            Assert.Contains("\n" + name, text, StringComparison.Ordinal);
    }
}
