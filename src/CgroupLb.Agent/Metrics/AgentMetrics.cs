using CgroupLb.Datapath.Status;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;
using k8s;
using Prometheus;

namespace CgroupLb.Agent.Metrics;

/// <summary>
/// The agent's Prometheus metrics: cgroup_lb_* (kube-proxy's names where kube-proxy has the concept, see
/// docs/metrics.md), process_* and dotnet_*. Sync and watch metrics are pushed by observers. The kernel side
/// (frontends, backends, map fill, refusals and, with <see cref="AgentMetricsOptions.PerService"/>, the BPF
/// per-service counters) comes from a snapshot of the pinned maps (<see cref="StatusSnapshotCache"/>), read again in the
/// background when a scrape finds it older than <see cref="AgentMetricsOptions.SnapshotMaxAge"/>, so /metrics shows
/// what the kernel holds without dumping every map on a request. Scrapes only read.
/// </summary>
internal sealed class AgentMetrics : ISyncObserver, IReflectorObserver
{
    /// <summary>kube-proxy's network_programming_duration_seconds buckets: 0.25 s and 0.5 s, 1 s to 59 s, 60 s to 115 s by 5, 2 to 5 min by 30 s.</summary>
    public static readonly double[] NetworkProgrammingBuckets =
    [
        0.25, 0.5,
        .. Enumerable.Range(1, 59).Select(s => (double)s),
        .. Enumerable.Range(0, 12).Select(i => 60.0 + 5 * i),
        .. Enumerable.Range(0, 7).Select(i => 120.0 + 30 * i),
    ];

    private readonly CollectorRegistry registry;
    private readonly TimeProvider time;
    private readonly Counter syncs;
    private readonly Histogram syncDuration;
    private readonly Histogram eventToMap;
    private readonly Histogram networkProgramming;
    private readonly Gauge lastSyncTimestamp;
    private readonly Counter errors;
    private readonly Counter watchEvents;
    private readonly Counter watchRestarts;
    private readonly Counter relists;
    private readonly Gauge frontends;
    private readonly Gauge backends;
    private readonly Gauge mapFill;
    private readonly Gauge mapPressure;
    private readonly Counter? translated;
    private readonly Counter? refused;
    private readonly Gauge manifestErrors;
    private readonly Gauge frontendsRefused;
    private readonly Gauge frontendsSubset;
    private readonly Counter refusals;
    private readonly Counter snapshotReads;
    private readonly Func<double?> takeEventAge;
    private readonly StatusSnapshotCache snapshots;
    private long publishedVersion;
    private readonly MonotonicCounters<(string Service, string Frontend)> translatedTotals = new();
    private readonly MonotonicCounters<(string Service, string Frontend)> refusedTotals = new();

    public AgentMetrics(CollectorRegistry registry, Func<DatapathStatus> readStatus, Func<double?> takeEventAge,
        Func<(int Services, int Endpoints)> pendingChanges, AgentMetricsOptions options)
    {
        this.registry = registry;
        this.takeEventAge = takeEventAge;
        time = options.Time;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);

        f.CreateGauge("cgroup_lb_build_info", "1, labelled with this agent's version, source commit and .NET runtime.", "version", "commit", "runtime")
            .WithLabels(BuildInfo.Version, BuildInfo.Commit, BuildInfo.Runtime).Set(1);
        syncs = f.CreateCounter("cgroup_lb_syncs_total", "Map syncs, by kind (full, partial) and result.", "kind", "result");
        syncDuration = f.CreateHistogram("cgroup_lb_sync_duration_seconds", "Time to plan and write one sync.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        eventToMap = f.CreateHistogram("cgroup_lb_event_to_map_seconds", "Time from a change received to the maps written.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });
        networkProgramming = f.CreateHistogram("cgroup_lb_network_programming_duration_seconds",
            "Time from the change that triggered an EndpointSlice update (its endpoints.kubernetes.io/last-change-trigger-time) to the maps written.",
            new HistogramConfiguration { Buckets = NetworkProgrammingBuckets });
        lastSyncTimestamp = f.CreateGauge("cgroup_lb_sync_proxy_rules_last_timestamp_seconds", "Unix time of the last successful sync.");
        var pendingServices = f.CreateGauge("cgroup_lb_sync_proxy_rules_service_changes_pending", "Services with Service changes not yet written to the maps.");
        var pendingEndpoints = f.CreateGauge("cgroup_lb_sync_proxy_rules_endpoint_changes_pending", "Services with EndpointSlice changes not yet written to the maps.");
        errors = f.CreateCounter("cgroup_lb_errors_total", "Errors, by kind.", "kind");
        watchEvents = f.CreateCounter("cgroup_lb_watch_events_total", "Kubernetes watch events, by resource and type.", "resource", "type");
        watchRestarts = f.CreateCounter("cgroup_lb_watch_restarts_total", "Kubernetes watch restarts, by resource and reason.", "resource", "reason");
        relists = f.CreateCounter("cgroup_lb_relists_total", "Kubernetes full lists, by resource.", "resource");
        frontends = f.CreateGauge("cgroup_lb_frontends", "Frontends programmed in the kernel maps.");
        backends = f.CreateGauge("cgroup_lb_backends", "Backend slots programmed in the kernel maps.");
        mapFill = f.CreateGauge("cgroup_lb_map_fill_ratio", "Entries over capacity, per BPF map.", "map");
        mapPressure = f.CreateGauge("cgroup_lb_bpf_map_pressure",
            "Entries over max_entries per BPF map, Cilium's bpf_map_pressure (lb_affinity and the reverse maps are LRUs the programs fill).", "map_name");
        if (options.PerService)
        {
            translated = f.CreateCounter("cgroup_lb_service_translations_total", "connect/sendmsg calls rewritten to a backend (BPF counter).", "service", "frontend");
            refused = f.CreateCounter("cgroup_lb_service_refusals_total", "connect/sendmsg calls refused because the frontend has no backends (BPF counter).", "service", "frontend");
        }
        manifestErrors = f.CreateGauge("cgroup_lb_manifest_errors", "Manifest documents currently rejected (file source).");
        frontendsRefused = f.CreateGauge("cgroup_lb_frontends_refused", "Frontends the agent could not write, by reason (from lb4_refused and lb6_refused).", "reason");
        frontendsSubset = f.CreateGauge("cgroup_lb_frontends_subset", "Frontends programmed with a subset of their backends (more endpoints than slots).");
        refusals = f.CreateCounter("cgroup_lb_frontend_refusals_total", "Frontend writes refused by the map writer, by reason (each retry counts).", "reason");
        snapshotReads = f.CreateCounter("cgroup_lb_map_snapshot_reads_total", "Times the pinned maps were read for /metrics (at most once per snapshot max age, off the scrape).");
        snapshots = new StatusSnapshotCache(() => { var status = readStatus(); snapshotReads.Inc(); return status; }, time, options.SnapshotMaxAge,
            options.StartRefresh, _ => errors.WithLabels("status_read").Inc());
        DotNetStats.Register(registry);
        var openFds = f.CreateGauge("process_open_fds", "Open file descriptors.");
        var maxFds = f.CreateGauge("process_max_fds", "The soft limit on open file descriptors.");
        var resident = f.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");

        registry.AddBeforeCollectCallback(() =>
        {
            var (services, endpoints) = pendingChanges();
            pendingServices.Set(services);
            pendingEndpoints.Set(endpoints);
            ProcessFds.Read(out int open, out long max);
            openFds.Set(open);
            maxFds.Set(max);
            resident.Set(Environment.WorkingSet);
            var (status, version) = snapshots.Get();
            lock (snapshots)
            {
                if (status is not null && version != publishedVersion)
                {
                    Publish(status);
                    publishedVersion = version;
                }
            }
        });
    }

    public CollectorRegistry Registry => registry;

    /// <summary>Every refusal reason, so each label series exists (at 0) before the first refusal.</summary>
    private static readonly string[] ReasonLabels = Enum.GetValues<RefusalReason>().Select(r => r.Label()).ToArray();

    private void Publish(DatapathStatus status)
    {
        frontends.Set(status.Frontends.Count);
        backends.Set(status.Frontends.Sum(x => x.Backends.Count));
        foreach (var m in status.Maps)
        {
            mapFill.WithLabels(m.Name).Set(m.FillRatio);
            mapPressure.WithLabels(m.Name).Set(m.FillRatio);
        }
        var refusedByReason = status.Refused.Where(r => !r.Programmed).GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Count());
        foreach (var reason in ReasonLabels.Concat(refusedByReason.Keys).Distinct())
            frontendsRefused.WithLabels(reason).Set(refusedByReason.GetValueOrDefault(reason));
        frontendsSubset.Set(status.Refused.Count(r => r.Programmed));
        if (translated is null || refused is null)
            return;
        var present = new HashSet<(string, string)>();
        foreach (var fe in status.Frontends)
        {
            var key = (fe.Name, fe.Frontend.ToString());
            present.Add(key);
            translated.WithLabels(key.Item1, key.Item2).IncTo(translatedTotals.Advance(key, fe.ServiceId, fe.Counters.Translated));
            refused.WithLabels(key.Item1, key.Item2).IncTo(refusedTotals.Advance(key, fe.ServiceId, fe.Counters.RefusedNoBackend));
        }
        // A Service that went takes its series with it (kube-proxy drops a removed Service's series too).
        foreach (var (service, frontend) in translatedTotals.Retain(present))
            translated.RemoveLabelled(service, frontend);
        foreach (var (service, frontend) in refusedTotals.Retain(present))
            refused.RemoveLabelled(service, frontend);
    }

    public void OnSyncCompleted(SyncResult result)
    {
        string kind = result.Kind.ToString().ToLowerInvariant();
        syncs.WithLabels(kind, result.Succeeded ? "ok" : "error").Inc();
        if (result.Kind == SyncKind.NotSynced)
            return;
        syncDuration.Observe(result.Duration.TotalSeconds);
        if (!result.Succeeded)
        {
            errors.WithLabels("map_write").Inc();
            return;
        }
        var now = time.GetUtcNow();
        lastSyncTimestamp.Set(now.ToUnixTimeMilliseconds() / 1000.0);
        foreach (var triggered in result.ChangeTriggerTimes)
            networkProgramming.Observe(Math.Max(0, (now - triggered).TotalSeconds)); // a skewed API server clock is no negative latency
        foreach (var refusedFrontend in result.Refused)
            refusals.WithLabels(refusedFrontend.Reason.Label()).Inc();
        if (takeEventAge() is { } age)
            eventToMap.Observe(age);
    }

    public void OnManifestErrors(int count)
    {
        manifestErrors.Set(count);
        if (count > 0)
            errors.WithLabels("manifest_invalid").Inc();
    }

    public void OnWatchEvent(string kind, WatchEventType type) => watchEvents.WithLabels(kind, type.ToString()).Inc();
    public void OnWatchRestart(string kind, WatchRestartReason reason) => watchRestarts.WithLabels(kind, reason.ToString()).Inc();
    public void OnRelist(string kind, int objects, int changes) => relists.WithLabels(kind).Inc();
    public void OnError(string kind, ReflectorErrorKind errorKind) => errors.WithLabels($"watch_{errorKind}".ToLowerInvariant()).Inc();
}

/// <summary>How the agent's metrics behave: --metrics-per-service and the snapshot's maximum age.</summary>
internal sealed record AgentMetricsOptions
{
    /// <summary>--metrics-per-service: one translation and one refusal series per frontend (two series per Service port).</summary>
    public bool PerService { get; init; }

    /// <summary>A scrape reads the maps again only when the last snapshot is older than this.</summary>
    public TimeSpan SnapshotMaxAge { get; init; } = TimeSpan.FromSeconds(5);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How a background snapshot read is started (tests run it inline); null: on the thread pool.</summary>
    public Action<Action>? StartRefresh { get; init; }
}
