using System.Diagnostics;
using System.Threading.Channels;
using CgroupLb.Model.Changes;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Manifests;

/// <summary>
/// Feeds Services, EndpointSlices and Nodes from manifest files to an <see cref="IClusterChangeSink"/>, and keeps
/// doing so as the files are edited: file-system events (debounced) and a periodic poll (slow while events arrive)
/// both trigger a pass that re-reads only files whose stamp changed and re-parses only their changed documents, and
/// only the differences reach the sink. Bad documents are logged and exposed in <see cref="CurrentErrors"/>;
/// the rest keeps working, and the objects they described keep their last good state (see <see cref="ManifestReconciler"/>).
/// Where there is no last good state (the document was already invalid when the agent started) the service is held
/// instead (<see cref="IClusterChangeSink.OnServiceHeld"/>), so the maps keep what an earlier run wrote for it.
/// </summary>
public sealed class ManifestSource
{
    /// <summary>The name this source passes to <see cref="IClusterChangeSink.OnSynced"/>.</summary>
    public const string SourceName = "manifests";

    private readonly ManifestSourceOptions options;
    private readonly ManifestReader reader;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly ManifestReconciler reconciler = new();
    private readonly HashSet<ManifestIgnoredDocument> ignoredAlreadyLogged = [];
    private HashSet<string> skippedAlreadyLogged = new(StringComparer.Ordinal);
    private ManifestReadResult? lastRead;
    private bool lastRecheckSoon;
    private HashSet<string> retainedAlreadyLogged = new(StringComparer.Ordinal);
    private HashSet<string> holdsAlreadyLogged = new(StringComparer.Ordinal);
    private HashSet<string> unattributedAlreadyLogged = new(StringComparer.Ordinal);
    private IReadOnlyList<ManifestError> currentErrors = [];
    private int running;

    /// <param name="time">Paces the poll, the debounce and the reader's racy-stamp check; tests pass a fake clock.</param>
    public ManifestSource(ManifestSourceOptions options, ILogger<ManifestSource>? logger = null, TimeProvider? time = null)
        : this(options, new ManifestReader(options?.MaxFileBytes ?? ManifestReader.DefaultMaxFileBytes, time), logger, time)
    {
    }

    internal ManifestSource(ManifestSourceOptions options, ManifestReader reader, ILogger? logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        this.reader = reader;
        this.logger = logger ?? NullLogger.Instance;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>Every problem found by the latest read, in file and document order. Safe to read from any thread.</summary>
    public IReadOnlyList<ManifestError> CurrentErrors => Volatile.Read(ref currentErrors);

    /// <summary>
    /// Raised on the source's loop after a read whose errors differ from the previous read's (including the first read
    /// when it has errors, and a read that clears them all). Handlers must be quick and must not throw.
    /// </summary>
    public event Action<IReadOnlyList<ManifestError>>? ErrorsChanged;

    /// <summary>
    /// Reads everything, reports it, calls <see cref="IClusterChangeSink.OnSynced"/> with <see cref="SourceName"/>, then
    /// applies edits until <paramref name="cancellationToken"/> is cancelled, when the task completes normally.
    /// Sink calls come from one logical thread, never concurrently.
    /// </summary>
    /// <exception cref="ManifestPathNotFoundException">The path does not exist at start.</exception>
    public async Task RunAsync(IClusterChangeSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ManifestPathNotFoundException.ThrowIfMissing(options.Path);
        if (Interlocked.Exchange(ref running, 1) != 0)
        {
            throw new InvalidOperationException("this ManifestSource is already running");
        }

        try
        {
            // The first read does file I/O; do not make the caller's startup wait for it synchronously.
            await Task.Yield();
            var nudges = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
            {
                FullMode = BoundedChannelFullMode.DropWrite,
                SingleReader = true,
            });

            // Watch before the first read, so an edit during that read is not missed.
            using var watcher = StartWatcher(() => nudges.Writer.TryWrite(true));
            var pollInterval = watcher is not null && options.WatchedPollInterval > options.PollInterval
                ? options.WatchedPollInterval
                : options.PollInterval;
            var recheckSoon = ReadAndDeliver(sink, initial: true);
            sink.OnSynced(SourceName);

            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = recheckSoon ? options.Debounce : pollInterval;
                if (await WaitForNudgeAsync(nudges.Reader, wait, cancellationToken))
                {
                    await SettleAsync(nudges.Reader, cancellationToken);
                }

                try
                {
                    recheckSoon = ReadAndDeliver(sink, initial: false);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    // A bug reading the files must not end the source: the last good state stays, and the next
                    // pass reads everything again.
                    ManifestLog.PassFailed(logger, options.Path, e);
                    reader.Forget();
                    lastRead = null;
                    recheckSoon = false;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Volatile.Write(ref running, 0);
        }
    }

    private ManifestChangeWatcher? StartWatcher(Action nudge)
    {
        if (!options.WatchFileSystem)
        {
            return null;
        }

        var watcher = ManifestChangeWatcher.TryStart(options.Path, nudge, out var failure);
        if (watcher is null)
        {
            ManifestLog.WatchUnavailable(logger, options.Path, failure!, options.PollInterval);
        }

        return watcher;
    }

    /// <returns>True when nudged, false when <paramref name="timeout"/> passed first.</returns>
    private async Task<bool> WaitForNudgeAsync(ChannelReader<bool> nudges, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (nudges.TryRead(out _))
        {
            return true;
        }

        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            await nudges.ReadAsync(timer.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits until no event came for one debounce interval, but no longer than a poll interval in all, so a file
    /// that is rewritten continuously is still read.
    /// </summary>
    private async Task SettleAsync(ChannelReader<bool> nudges, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var remaining = options.PollInterval - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            var quiet = remaining < options.Debounce ? remaining : options.Debounce;
            if (!await WaitForNudgeAsync(nudges, quiet, cancellationToken))
            {
                return;
            }
        }
    }

    private bool ReadAndDeliver(IClusterChangeSink sink, bool initial)
    {
        var read = reader.Read(options.Path);
        if (!initial && ReferenceEquals(read, lastRead) && !lastRecheckSoon)
        {
            // No file changed (same list, same stamps): nothing can have changed, and nothing is recomputed.
            return false;
        }

        if (reconciler.NeedsFreshRead(read))
        {
            // A cached document would be delivered after its body was released: parse everything again (rare).
            reader.Forget();
            read = reader.Read(options.Path);
        }

        lastRead = read;
        var result = reconciler.Reconcile(read);
        lastRecheckSoon = result.RecheckSoon;

        // Held before the objects arrive and released after they have: a sync between two sink calls must never see
        // a service unheld and without its objects, or it would rewrite the service from an incomplete picture.
        foreach (var service in result.HoldsAcquired)
        {
            sink.OnServiceHeld(service, held: true);
        }

        int created = 0, updated = 0, deleted = 0;
        foreach (var change in result.Changes)
        {
            Deliver(sink, change);
            string what;
            if (change.Previous is null)
            {
                created++;
                what = "created";
            }
            else if (change.Current is null)
            {
                deleted++;
                what = "deleted";
            }
            else
            {
                updated++;
                what = "updated";
            }

            ManifestLog.Change(logger, what, change.Key);
        }

        // The consumer parsed what it needs; keep only identities (and the fingerprints that tell what is unchanged).
        if (result.Changes.Count > 0)
        {
            reconciler.ReleaseReportedBodies();
        }

        foreach (var service in result.HoldsReleased)
        {
            sink.OnServiceHeld(service, held: false);
            ManifestLog.Released(logger, service);
        }

        if (!initial && result.Changes.Count > 0)
        {
            ManifestLog.Applied(logger, options.Path, created, updated, deleted);
        }

        foreach (var ignored in read.Ignored)
        {
            if (ignoredAlreadyLogged.Add(ignored))
            {
                ManifestLog.DocumentIgnored(logger, ignored);
            }
        }

        skippedAlreadyLogged = LogNew(read.Skipped, skippedAlreadyLogged, skip => skip.ToString(), skip => ManifestLog.FileSkipped(logger, skip));

        var retainedNow = new HashSet<string>(StringComparer.Ordinal);
        foreach (var retention in result.Retained)
        {
            var text = retention.ToString();
            retainedNow.Add(text);
            if (!retainedAlreadyLogged.Contains(text))
            {
                ManifestLog.Retained(logger, retention);
            }
        }

        retainedAlreadyLogged = retainedNow;
        holdsAlreadyLogged = LogNew(result.Holds, holdsAlreadyLogged, hold => hold.ToString(), hold => ManifestLog.Held(logger, hold));
        unattributedAlreadyLogged = LogNew(
            result.Unattributed,
            unattributedAlreadyLogged,
            document => $"{document.File} doc {document.DocumentIndex} {document.Key}",
            document => ManifestLog.CannotHold(logger, document.File, document.DocumentIndex, document.Key!.Value));
        PublishErrors(read.Errors);
        if (initial)
        {
            ManifestLog.Synced(logger, options.Path, reconciler.Reported.Count(), read.Errors.Count);
        }

        return result.RecheckSoon;
    }

    /// <summary>Logs the items not logged by the previous pass; returns what to compare the next pass with.</summary>
    private static HashSet<string> LogNew<T>(IEnumerable<T> items, HashSet<string> loggedBefore, Func<T, string> identity, Action<T> log)
    {
        var now = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (now.Add(identity(item)) && !loggedBefore.Contains(identity(item)))
            {
                log(item);
            }
        }

        return now;
    }

    private static void Deliver(IClusterChangeSink sink, ManifestChange change)
    {
        switch (change.Key.Kind)
        {
            case ManifestKind.Service:
                sink.OnService((V1Service?)change.Previous, (V1Service?)change.Current);
                break;
            case ManifestKind.EndpointSlice:
                sink.OnEndpointSlice((V1EndpointSlice?)change.Previous, (V1EndpointSlice?)change.Current);
                break;
            case ManifestKind.Node:
                sink.OnNode((V1Node?)change.Previous, (V1Node?)change.Current);
                break;
            default:
                throw new UnreachableException($"unknown manifest kind {change.Key.Kind}");
        }
    }

    private void PublishErrors(IReadOnlyList<ManifestError> errors)
    {
        var previous = CurrentErrors;
        if (previous.SequenceEqual(errors))
        {
            return;
        }

        var previousSet = previous.ToHashSet();
        var currentSet = errors.ToHashSet();
        foreach (var error in errors.Where(e => !previousSet.Contains(e)))
        {
            ManifestLog.ErrorFound(logger, error);
        }

        foreach (var error in previous.Where(e => !currentSet.Contains(e)))
        {
            ManifestLog.ErrorResolved(logger, error);
        }

        Volatile.Write(ref currentErrors, errors);
        ErrorsChanged?.Invoke(errors);
    }
}
