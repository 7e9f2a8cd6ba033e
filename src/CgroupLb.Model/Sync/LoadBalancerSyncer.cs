using System.Collections.Immutable;
using System.Diagnostics;
using CgroupLb.Model.Changes;
using CgroupLb.Model.Kubernetes;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Planning;
using CgroupLb.Model.Services;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Model.Sync;

/// <summary>
/// The only stage that turns recorded changes into map writes (kube-proxy's syncProxyRules). Nothing is written
/// until the tracker is synced, so a restarting agent never removes working services it has not heard about yet.
/// The first sync, and the first after any failure, diffs everything against what the writer reads back from the maps;
/// the others recompute only the services that changed. The periodic full sync (<see cref="RunAsync"/>) diffs every
/// service too, but against the applied view; when <see cref="LoadBalancerSyncerOptions.MapCheckPeriod"/> is due it
/// first has the writer verify that the maps still hold exactly that (<see cref="ILoadBalancerWriter.VerifyApplied"/>),
/// and only when they do not does it read them back and rewrite what drifted. Services a source holds (<see cref="ClusterChanges.HeldServices"/>)
/// keep whatever the maps hold for them (<see cref="HeldServiceFilter"/>). A frontend the writer refuses (a full map,
/// no free id, a failed write) costs only itself: the rest of the plan is applied, the sync succeeds with the refusal
/// in <see cref="SyncResult.Refused"/>, and every later sync retries that frontend alone, without a full sync.
/// </summary>
public sealed class LoadBalancerSyncer
{
    private readonly ClusterChangeTracker tracker;
    private readonly ServiceTranslator translator;
    private readonly ILoadBalancerWriter writer;
    private readonly LoadBalancerSyncerOptions options;
    private readonly ILogger logger;
    private readonly ISyncObserver? observer;
    private readonly TimeProvider time;
    private readonly object syncGate = new();

    // What we believe the maps hold; null until the first full sync has read them. Updated in place under syncGate,
    // O(the plan) per sync; readers get an immutable snapshot (appliedSnapshot, made on demand, dropped by every sync).
    private Dictionary<Frontend, LoadBalancerService>? applied;
    private ImmutableDictionary<Frontend, LoadBalancerService>? appliedSnapshot;
    private bool needFullSync = true;

    // The sync period elapsed: the next sync diffs every service, reading the maps back only if they fail verification.
    private bool periodicSyncDue;

    // When the maps were last read back or verified (null: never).
    private long? lastMapCheck;

    // The last full translation and the state it came from (see TranslateAll).
    private (ClusterState State, IReadOnlyDictionary<Frontend, LoadBalancerService> Desired)? lastTranslated;

    // Which applied frontends each service owns, so a partial sync costs O(changes) (rebuilt by every full sync).
    private FrontendOwnerIndex owners = new();

    // Frontends the writer refused and no later plan covered: retried by every partial sync (null: a refused delete).
    private readonly Dictionary<Frontend, LoadBalancerService?> pendingRefusals = [];

    // The held services last logged, so each hold and release is logged once however many syncs it lasts.
    private IReadOnlySet<ServiceName> loggedHeld = ImmutableHashSet<ServiceName>.Empty;

    public LoadBalancerSyncer(
        ClusterChangeTracker tracker,
        ServiceTranslator translator,
        ILoadBalancerWriter writer,
        LoadBalancerSyncerOptions? options = null,
        ILogger? logger = null,
        ISyncObserver? observer = null,
        TimeProvider? time = null)
    {
        this.tracker = tracker;
        this.translator = translator;
        this.writer = writer;
        this.options = options ?? new LoadBalancerSyncerOptions();
        this.logger = logger ?? NullLogger.Instance;
        this.observer = observer;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// The map contents after the last successful sync (empty before the first): an immutable snapshot, safe to read
    /// while later syncs run. Made on the first read after a sync (O(frontends), waiting for a running sync).
    /// </summary>
    public IReadOnlyDictionary<Frontend, LoadBalancerService> Applied
    {
        get
        {
            lock (syncGate)
                return appliedSnapshot ??= applied is null ? ImmutableDictionary<Frontend, LoadBalancerService>.Empty : applied.ToImmutableDictionary();
        }
    }

    /// <summary>Told, after each successful sync, which backends left which frontends (socket termination). Set before running.</summary>
    public IBackendRemovalObserver? BackendRemovalObserver { get; set; }

    /// <summary>Told the Node objects' addresses when they changed and on every full sync (NodePort). Set before running.</summary>
    public INodeAddressObserver? NodeAddressObserver { get; set; }

    /// <summary>Makes the next sync a full one, e.g. when the maps may have been changed by someone else.</summary>
    public void RequestFullSync()
    {
        lock (syncGate) needFullSync = true;
    }

    /// <summary>Writes whatever changed since the previous sync. Never throws for writer failures; see the result.</summary>
    public SyncResult SyncOnce()
    {
        lock (syncGate)
        {
            SyncResult result = SyncLocked();
            observer?.OnSyncCompleted(result);
            return result;
        }
    }

    private SyncResult SyncLocked()
    {
        if (!tracker.IsSynced) return new SyncResult(SyncKind.NotSynced, 0, 0, 0, 0, TimeSpan.Zero, null);

        long started = time.GetTimestamp();
        ClusterChanges changes = tracker.CheckoutChanges();
        LogHeldFlips(changes.HeldServices);
        bool full = needFullSync || periodicSyncDue || applied is null || changes.NodeChanged;
        bool reread = false;
        SyncKind kind = full ? SyncKind.Full : SyncKind.Partial;
        if (full || changes.NodeAddressesChanged) NodeAddressObserver?.OnNodeAddresses(changes.State.NodeAddresses);
        try
        {
            LoadBalancerPlan plan;
            // What the maps held before this sync, updated in place into what they hold after it (it is `applied` but
            // after a read-back).
            Dictionary<Frontend, LoadBalancerService> before;
            if (full)
            {
                bool checkMaps = lastMapCheck is not { } checkedAt || time.GetElapsedTime(checkedAt) >= options.MapCheckPeriod;
                reread = needFullSync || applied is null || (checkMaps && !writer.VerifyApplied());
                if (reread || checkMaps) lastMapCheck = started;
                before = reread ? new Dictionary<Frontend, LoadBalancerService>(writer.ReadApplied()) : applied!;
                var desired = TranslateAll(changes.State);
                LoadBalancerPlanner.AdoptOwners(before, desired);
                desired = HeldServiceFilter.KeepApplied(before, desired, changes.HeldServices);
                plan = LoadBalancerPlanner.Plan(before, desired);
                plan = WithRecordedRefusals(plan, before, desired);
            }
            else
            {
                before = applied!;
                var desired = translator.Translate(changes.State, changes.Services);
                desired = HeldServiceFilter.KeepApplied(before, desired, changes.HeldServices, changes.Services, owners);
                plan = LoadBalancerPlanner.PlanServices(before, desired, changes.Services, owners);
                plan = WithRetries(plan, desired, changes.Services);
            }

            ApplyResult written = plan.IsEmpty ? ApplyResult.Applied : writer.Apply(plan);
            LoadBalancerPlan done = WithoutRefused(plan, written);
            // Read before the applied view moves on: what the maps held for the frontends written.
            ImmutableArray<RemovedBackend> removed = BackendRemovalObserver is null ? [] : RemovedBackends.FindApplied(before, done);
            LoadBalancerPlanner.ApplyInPlace(before, done);
            applied = before;
            appliedSnapshot = null;
            if (reread) owners = FrontendOwnerIndex.Build(applied);
            else owners.Follow(applied, done);
            TrackRefusals(full, plan, written);
            if (BackendRemovalObserver is { } removals && !removed.IsEmpty) removals.OnBackendsRemoved(removed);
            needFullSync = false;
            if (full) periodicSyncDue = false;

            int backends = 0;
            foreach (LoadBalancerService service in done.Upserts) backends += service.Backends.Length;
            var result = new SyncResult(kind, changes.Services.Count, done.Upserts.Length, done.Deletes.Length,
                backends, time.GetElapsedTime(started), null)
            {
                Refused = written.AllApplied ? [] : written.Refused,
                ChangeTriggerTimes = changes.ChangeTriggerTimes,
                MapsReread = reread,
            };
            if (!plan.IsEmpty)
                logger.LogDebug("Sync {Kind}: services={Services} upserted={Upserted} deleted={Deleted} refused={Refused} backends={Backends} duration={Duration}",
                    kind, result.ServicesChanged, result.FrontendsUpserted, result.FrontendsDeleted, result.Refused.Length, result.BackendsProgrammed, result.Duration);
            return result;
        }
        catch (Exception ex)
        {
            // Some frontends of the plan may be written and some not: only a full diff against the maps is safe now.
            needFullSync = true;
            logger.LogError(ex, "Sync {Kind} failed; the next sync will be a full one", kind);
            return new SyncResult(kind, changes.Services.Count, 0, 0, 0, time.GetElapsedTime(started), ex);
        }
    }

    /// <summary>
    /// The whole state translated, reused while the tracker hands out the same services, slices and node: the
    /// periodic full sync of an idle agent (every <see cref="LoadBalancerSyncerOptions.SyncPeriod"/>) then verifies and
    /// diffs the maps without translating 10k Services again. Translation is a pure function of the state, and the
    /// tracker replaces a dictionary whenever anything in it changed, so reference equality is exact.
    /// </summary>
    private IReadOnlyDictionary<Frontend, LoadBalancerService> TranslateAll(ClusterState state)
    {
        if (lastTranslated is { } last && ReferenceEquals(last.State.Services, state.Services)
            && ReferenceEquals(last.State.SlicesByService, state.SlicesByService) && Equals(last.State.LocalNode, state.LocalNode))
            return last.Desired;
        var desired = translator.Translate(state);
        lastTranslated = (state, desired);
        return desired;
    }

    /// <summary>
    /// A full sync also settles the writer's refusal records, which survive restarts: a recorded frontend nobody
    /// desires any more is deleted (dropping its record), and one desired exactly as the maps hold it is upserted
    /// as is (a no-op write that drops the record). Desired frontends that differ are in the plan already.
    /// </summary>
    private LoadBalancerPlan WithRecordedRefusals(
        LoadBalancerPlan plan,
        IReadOnlyDictionary<Frontend, LoadBalancerService> before,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired)
    {
        var recorded = writer.ReadRefused();
        if (recorded.Count == 0)
            return plan;
        var touched = Touched(plan);
        List<LoadBalancerService>? upserts = null;
        List<Frontend>? deletes = null;
        foreach (Frontend frontend in recorded)
        {
            if (touched.Contains(frontend))
                continue;
            if (desired.TryGetValue(frontend, out LoadBalancerService? service))
                (upserts ??= []).Add(service);
            else if (!before.ContainsKey(frontend))
                (deletes ??= []).Add(frontend);
        }
        return Merge(plan, upserts, deletes);
    }

    /// <summary>
    /// A partial sync retries the frontends refused before that this plan does not already cover, and only those:
    /// with what their Service now desires when it changed, deleted when their Service no longer has them, else as
    /// they were last asked for.
    /// </summary>
    private LoadBalancerPlan WithRetries(
        LoadBalancerPlan plan,
        IReadOnlyDictionary<Frontend, LoadBalancerService> desired,
        IReadOnlySet<ServiceName> changedServices)
    {
        if (pendingRefusals.Count == 0)
            return plan;
        var touched = Touched(plan);
        List<LoadBalancerService>? upserts = null;
        List<Frontend>? deletes = null;
        foreach (var (frontend, retry) in pendingRefusals)
        {
            if (touched.Contains(frontend))
                continue;
            if (desired.TryGetValue(frontend, out LoadBalancerService? now))
                (upserts ??= []).Add(now);
            else if (retry is null || (LoadBalancerPlanner.OwnerOf(retry) is { } owner && changedServices.Contains(owner)))
                (deletes ??= []).Add(frontend);
            else
                (upserts ??= []).Add(retry);
        }
        return Merge(plan, upserts, deletes);
    }

    /// <summary>Remembers what to retry: a refused upsert with its service, a refused delete as null.</summary>
    private void TrackRefusals(bool full, LoadBalancerPlan plan, ApplyResult written)
    {
        if (full)
            pendingRefusals.Clear();
        else if (pendingRefusals.Count > 0)
        {
            foreach (LoadBalancerService service in plan.Upserts) pendingRefusals.Remove(service.Frontend);
            foreach (Frontend frontend in plan.Deletes) pendingRefusals.Remove(frontend);
        }
        if (written.AllApplied)
            return;
        var deleted = plan.Deletes.ToHashSet();
        foreach (RefusedFrontend refused in written.Refused)
            pendingRefusals[refused.Frontend] = deleted.Contains(refused.Frontend) ? null : refused.Service;
    }

    private static LoadBalancerPlan WithoutRefused(LoadBalancerPlan plan, ApplyResult written)
    {
        if (written.AllApplied)
            return plan;
        var refused = written.Refused.Select(r => r.Frontend).ToHashSet();
        return new LoadBalancerPlan(
            plan.Upserts.Where(s => !refused.Contains(s.Frontend)).ToImmutableArray(),
            plan.Deletes.Where(f => !refused.Contains(f)).ToImmutableArray());
    }

    private static HashSet<Frontend> Touched(LoadBalancerPlan plan)
    {
        var touched = new HashSet<Frontend>(plan.Deletes);
        foreach (LoadBalancerService service in plan.Upserts) touched.Add(service.Frontend);
        return touched;
    }

    private static LoadBalancerPlan Merge(LoadBalancerPlan plan, List<LoadBalancerService>? upserts, List<Frontend>? deletes)
    {
        if (upserts is null && deletes is null)
            return plan;
        return new LoadBalancerPlan(
            plan.Upserts.AddRange(upserts ?? []).Sort((a, b) => a.Frontend.CompareTo(b.Frontend)),
            plan.Deletes.AddRange(deletes ?? []).Sort());
    }

    private void LogHeldFlips(IReadOnlySet<ServiceName> held)
    {
        if (held.Count == 0 && loggedHeld.Count == 0)
            return;
        foreach (ServiceName service in held.Where(s => !loggedHeld.Contains(s)).Order())
            logger.LogInformation("Service {Service} held: its source reports an invalid document and has no last good state; keeping what the maps hold", service);
        foreach (ServiceName service in loggedHeld.Where(s => !held.Contains(s)).Order())
            logger.LogInformation("Service {Service} released: its document is valid again or gone; syncing it normally", service);
        loggedHeld = held;
    }

    /// <summary>
    /// Syncs whenever the tracker reports changes, at most once per <see cref="LoadBalancerSyncerOptions.MinSyncInterval"/>,
    /// and runs a full sync whenever <see cref="LoadBalancerSyncerOptions.SyncPeriod"/> passed since the last one, busy or
    /// not (kube-proxy's bounded-frequency runner). That periodic sync diffs every service against the applied view and,
    /// once per <see cref="LoadBalancerSyncerOptions.MapCheckPeriod"/>, verifies the maps too, reading them back only
    /// when they differ: anything changed behind the agent's back is repaired within that bound. Failed syncs are retried with exponential backoff. All waiting goes
    /// through the injected <see cref="TimeProvider"/>. Returns when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        TimeSpan retryDelay = options.InitialRetryDelay;
        bool retry = false;
        long? lastStart = null;
        long lastFullSync = time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!retry)
                {
                    if (options.SyncPeriod is { } period)
                    {
                        TimeSpan untilFullSync = period - time.GetElapsedTime(lastFullSync);
                        if (untilFullSync > TimeSpan.Zero)
                            await WaitForChangesAsync(untilFullSync, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await tracker.WaitForChangesAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                if (lastStart is { } last)
                {
                    TimeSpan wait = options.MinSyncInterval - time.GetElapsedTime(last);
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }
                lastStart = time.GetTimestamp();
                // Due whether the wait above ended by a change or by the period: the sync that runs now is the full one.
                if (options.SyncPeriod is { } due && time.GetElapsedTime(lastFullSync) >= due)
                    lock (syncGate) periodicSyncDue = true;

                SyncResult result = SyncOnce();
                // Not synced yet counts too: the period restarts rather than spinning until the sources have listed.
                if (result.Kind is SyncKind.Full or SyncKind.NotSynced)
                    lastFullSync = lastStart.Value;
                if (result.Succeeded)
                {
                    retry = false;
                    retryDelay = options.InitialRetryDelay;
                    continue;
                }
                retry = true;
                logger.LogWarning("Retrying sync in {Delay}", retryDelay);
                await Task.Delay(retryDelay, time, cancellationToken).ConfigureAwait(false);
                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, options.MaxRetryDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits for changes or for <paramref name="timeout"/> on this syncer's clock (the tracker's own timed wait uses the wall clock).</summary>
    private async Task WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await tracker.WaitForChangesAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }
    }
}
