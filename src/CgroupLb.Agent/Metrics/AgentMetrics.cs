using CgroupLb.Datapath.Loading;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;
using k8s;
using Prometheus;

namespace CgroupLb.Agent.Metrics;

/// <summary>
/// The agent's Prometheus metrics (cgroup_lb_*). Sync and watch metrics are pushed by observers; the kernel side
/// (frontends, backends, map fill and the BPF per-service counters) is read from the pinned maps at scrape time, so
/// /metrics shows what the kernel holds, not what the agent believes.
/// </summary>
internal sealed class AgentMetrics : ISyncObserver, IReflectorObserver
{
    private readonly CollectorRegistry registry;
    private readonly Counter syncs;
    private readonly Histogram syncDuration;
    private readonly Histogram eventToMap;
    private readonly Counter errors;
    private readonly Counter watchEvents;
    private readonly Counter watchRestarts;
    private readonly Counter relists;
    private readonly Gauge frontends;
    private readonly Gauge backends;
    private readonly Gauge mapFill;
    private readonly Counter translated;
    private readonly Counter refused;
    private readonly Gauge manifestErrors;
    private readonly Gauge frontendsRefused;
    private readonly Gauge frontendsSubset;
    private readonly Counter refusals;
    private readonly Func<double?> takeEventAge;

    public AgentMetrics(CollectorRegistry registry, LoadBalancerDatapath datapath, Func<double?> takeEventAge)
    {
        this.registry = registry;
        this.takeEventAge = takeEventAge;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        syncs = f.CreateCounter("cgroup_lb_syncs_total", "Map syncs, by kind (full, partial) and result.", "kind", "result");
        syncDuration = f.CreateHistogram("cgroup_lb_sync_duration_seconds", "Time to plan and write one sync.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        eventToMap = f.CreateHistogram("cgroup_lb_event_to_map_seconds", "Time from a change received to the maps written.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });
        errors = f.CreateCounter("cgroup_lb_errors_total", "Errors, by kind.", "kind");
        watchEvents = f.CreateCounter("cgroup_lb_watch_events_total", "Kubernetes watch events, by resource and type.", "resource", "type");
        watchRestarts = f.CreateCounter("cgroup_lb_watch_restarts_total", "Kubernetes watch restarts, by resource and reason.", "resource", "reason");
        relists = f.CreateCounter("cgroup_lb_relists_total", "Kubernetes full lists, by resource.", "resource");
        frontends = f.CreateGauge("cgroup_lb_frontends", "Frontends programmed in the kernel maps.");
        backends = f.CreateGauge("cgroup_lb_backends", "Backend slots programmed in the kernel maps.");
        mapFill = f.CreateGauge("cgroup_lb_map_fill_ratio", "Entries over capacity, per BPF map.", "map");
        translated = f.CreateCounter("cgroup_lb_service_translations_total", "connect/sendmsg calls rewritten to a backend (BPF counter).", "service", "frontend");
        refused = f.CreateCounter("cgroup_lb_service_refusals_total", "connect/sendmsg calls refused because the frontend has no backends (BPF counter).", "service", "frontend");
        manifestErrors = f.CreateGauge("cgroup_lb_manifest_errors", "Manifest documents currently rejected (file source).");
        frontendsRefused = f.CreateGauge("cgroup_lb_frontends_refused", "Frontends the agent could not write, by reason (from lb4_refused and lb6_refused).", "reason");
        frontendsSubset = f.CreateGauge("cgroup_lb_frontends_subset", "Frontends programmed with a subset of their backends (more endpoints than slots).");
        refusals = f.CreateCounter("cgroup_lb_frontend_refusals_total", "Frontend writes refused by the map writer, by reason (each retry counts).", "reason");

        registry.AddBeforeCollectCallback(() =>
        {
            try
            {
                var status = datapath.ReadStatus();
                frontends.Set(status.Frontends.Count);
                backends.Set(status.Frontends.Sum(x => x.Backends.Count));
                foreach (var m in status.Maps)
                    mapFill.WithLabels(m.Name).Set(m.FillRatio);
                var refusedByReason = status.Refused.Where(r => !r.Programmed).GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Count());
                foreach (var reason in ReasonLabels.Concat(refusedByReason.Keys).Distinct())
                    frontendsRefused.WithLabels(reason).Set(refusedByReason.GetValueOrDefault(reason));
                frontendsSubset.Set(status.Refused.Count(r => r.Programmed));
                foreach (var fe in status.Frontends)
                {
                    translated.WithLabels(fe.Name, fe.Frontend.ToString()).IncTo(fe.Counters.Translated);
                    refused.WithLabels(fe.Name, fe.Frontend.ToString()).IncTo(fe.Counters.RefusedNoBackend);
                }
            }
            catch (Exception)
            {
                errors.WithLabels("status_read").Inc();
            }
        });
    }

    public CollectorRegistry Registry => registry;

    /// <summary>Every refusal reason, so each label series exists (at 0) before the first refusal.</summary>
    private static readonly string[] ReasonLabels = Enum.GetValues<RefusalReason>().Select(r => r.Label()).ToArray();

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
        foreach (var refused in result.Refused)
            refusals.WithLabels(refused.Reason.Label()).Inc();
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
