using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// Keeps a local copy of one resource kind in step with the API server and reports every real change as a
/// {previous, current} pair: list (paged), then watch from the list's resourceVersion with bookmarks. It never
/// trusts a watch to tell it that it has ended: a stream that closes resumes from the last resourceVersion, 410
/// Gone (as HTTP status or ERROR event) or an undecodable line triggers a relist that is diffed against the
/// store, and a watch that has been silent past <see cref="ReflectorOptions.WatchQuietTimeout"/> is reopened. One object
/// with a malformed field, in a list page or a watch event, is refused alone: the rest applies and the stream moves on.
/// </summary>
public sealed class Reflector<T>
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    /// <summary>A failure that keeps repeating is logged at most this often (with the count of repeats in between).</summary>
    public static readonly TimeSpan RepeatedFailureLogInterval = TimeSpan.FromSeconds(30);

    private readonly string kind;
    private readonly ResourceApi<T> api;
    private readonly ReflectorOptions options;
    private readonly Action<ObjectChange<T>> deliver;
    private readonly Action onSynced;
    private readonly IReflectorObserver observer;
    private readonly ILogger logger;
    private readonly Random random;
    private readonly ReflectorStore<T> store = new();
    private readonly ReconnectBackoff backoff;
    private readonly FailureLogThrottle failureLog;
    private readonly TimeProvider time;
    private volatile string? resourceVersion;
    private bool synced;

    /// <param name="kind">Names this reflector in logs, observer calls and the OnSynced callback's source.</param>
    /// <param name="deliver">Receives each change; it is called from this reflector's task only, never concurrently.</param>
    /// <param name="onSynced">Called once, after the first complete list has been delivered.</param>
    /// <param name="time">Paces the retry delays and the repeated failure log lines; tests pass a fake clock.</param>
    public Reflector(
        string kind,
        ResourceApi<T> api,
        ReflectorOptions options,
        Action<ObjectChange<T>> deliver,
        Action onSynced,
        IReflectorObserver? observer = null,
        ILogger? logger = null,
        Random? random = null,
        TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        options.Validate();
        this.kind = kind;
        this.api = api;
        this.options = options;
        this.deliver = deliver;
        this.onSynced = onSynced;
        this.observer = observer ?? NullReflectorObserver.Instance;
        this.logger = logger ?? NullLogger.Instance;
        this.random = random ?? new Random();
        backoff = new ReconnectBackoff(options.BackoffInitial, options.BackoffMax, options.BackoffJitter, this.random);
        this.time = time ?? TimeProvider.System;
        failureLog = new FailureLogThrottle(RepeatedFailureLogInterval, this.time);
    }

    public string Kind => kind;

    /// <summary>The resourceVersion the next watch starts from: the last list's, advanced by every event and bookmark.</summary>
    public string? ResourceVersion => resourceVersion;

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; fails only if the change sink throws.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var needList = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    if (!await TryListAsync(cancellationToken).ConfigureAwait(false))
                    {
                        continue;
                    }

                    needList = false;
                }

                var outcome = await WatchAsync(cancellationToken).ConfigureAwait(false);
                needList = outcome.Reason is WatchRestartReason.Expired or WatchRestartReason.Desynced;
                observer.OnWatchRestart(kind, outcome.Reason);
                if (outcome.Reason == WatchRestartReason.Closed)
                {
                    ReflectorLog.WatchClosed(logger, kind, outcome.Events, resourceVersion ?? "");
                }
                else
                {
                    ReflectorLog.WatchRestarted(logger, kind, outcome.Reason, outcome.Events, resourceVersion ?? "", needList);
                }

                // A watch that delivered something proves the connection and version are good. One that delivered
                // nothing must not be retried in a tight loop (a server that answers 410 or closes at once).
                // The watchdog has already waited out its quiet limit, so it reopens at once.
                if (outcome.Events > 0)
                {
                    backoff.Reset();
                    LogRecovery();
                }
                else if (outcome.Reason != WatchRestartReason.Quiet)
                {
                    await DelayAsync(backoff.NextDelay(), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not ChangeSinkException)
            {
                // Stopping: whatever the interrupted read failed with (a cancellation, or a connection reset by a
                // server that is going away at the same moment) is not a failure of the source.
                return;
            }
        }
    }

    private async Task<bool> TryListAsync(CancellationToken cancellationToken)
    {
        // A list into an empty store (the agent's first, normally) is applied page by page as it arrives: every object
        // is a creation and nothing can be deleted, so there is nothing a half-read list could get wrong, and each
        // page's objects are garbage once delivered instead of all of them being held until the last page (at 10k
        // Services x 10 endpoints that was most of the source's peak heap, and the GC copied it through every
        // generation). Nothing reaches the maps before OnSynced, which still waits for the complete list; a list that
        // fails part-way leaves its objects stored, and the retry is an ordinary relist that diffs against them.
        // Any other list is applied only once complete: a list that failed halfway must not delete what it had not reached.
        var streaming = store.Count == 0;
        var items = new List<T>();
        var refusedKeys = new HashSet<string>(StringComparer.Ordinal);
        var listed = 0;
        var streamedChanges = 0;
        var pages = 0;
        string? listVersion = null;
        try
        {
            string? continueToken = null;
            do
            {
                var page = await ListPageAsync(continueToken, cancellationToken).ConfigureAwait(false);
                pages++;
                listed += page.Items.Count;
                Refuse(page.Refused, refusedKeys);
                if (streaming)
                {
                    streamedChanges += DeliverListed(page.Items);
                }
                else
                {
                    items.AddRange(page.Items);
                }

                listVersion = page.ResourceVersion;
                continueToken = string.IsNullOrEmpty(page.Continue) ? null : page.Continue;
            }
            while (continueToken is not null);

            if (string.IsNullOrEmpty(listVersion))
            {
                throw new InvalidDataException($"{kind}: the list response carried no metadata.resourceVersion");
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not ChangeSinkException)
        {
            // An expired continue token means the server compacted the snapshot we were paging through; the list
            // starts over, like any other failure (a relist's pages read so far are discarded; a first list's stay
            // delivered and stored, and the retry diffs against them).
            var errorKind = IsGone(e) ? ReflectorErrorKind.ListExpired : ReflectorErrorKind.List;
            observer.OnError(kind, errorKind);
            var delay = backoff.NextDelay();
            LogListFailure(errorKind, delay, e);
            await DelayAsync(delay, cancellationToken).ConfigureAwait(false);
            return false;
        }

        LogRecovery();

        var changeCount = streamedChanges;
        if (!streaming)
        {
            var changes = store.Replace(items, refusedKeys);
            foreach (var change in changes)
            {
                Deliver(change);
            }

            changeCount = changes.Count;
        }

        resourceVersion = listVersion;
        observer.OnRelist(kind, listed, changeCount);
        ReflectorLog.Listed(logger, kind, listed, pages, listVersion, changeCount);
        if (!synced)
        {
            synced = true;
            try
            {
                onSynced();
            }
            catch (Exception e)
            {
                throw new ChangeSinkException(kind, null, e);
            }

            ReflectorLog.Synced(logger, kind);
        }

        return true;
    }

    /// <summary>
    /// Reports the objects of a page that could not be decoded. Each is refused alone: nothing is delivered for it, and a
    /// relist keeps what the store had under its key (the sink keeps its last good state) rather than deleting it.
    /// </summary>
    private void Refuse(IReadOnlyList<Decoding.RefusedObject> refused, HashSet<string> refusedKeys)
    {
        foreach (var obj in refused)
        {
            if (obj.Key is not null)
            {
                refusedKeys.Add(obj.Key);
            }

            observer.OnError(kind, ReflectorErrorKind.Refused);
            ReflectorLog.ObjectRefused(logger, kind, obj.Key ?? "an unnamed object", obj.Reason);
        }
    }

    /// <summary>Stores and delivers one page of a list into an empty store; returns how many changes it delivered.</summary>
    private int DeliverListed(IList<T> page)
    {
        var delivered = 0;
        foreach (var obj in page)
        {
            if (store.Upsert(obj) is { } change)
            {
                Deliver(change);
                delivered++;
            }
        }

        return delivered;
    }

    private async Task<ResourceListPage<T>> ListPageAsync(string? continueToken, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.ListPageTimeout, time);
        using var pageCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await api.ListPageAsync(continueToken, options.ListPageSize, pageCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{kind}: a list page got no complete answer within {options.ListPageTimeout.TotalSeconds:0.#} s", e);
        }
    }

    private async Task<WatchOutcome> WatchAsync(CancellationToken cancellationToken)
    {
        using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var streamError = (Exception?)null;
        var events = 0;

        // ERROR Status events (410 included) and undecodable lines come to this callback. Our stream reader ends after
        // it; KubernetesClient's typed watcher keeps reading as if nothing happened, and cancelling stops it before it
        // can yield anything after the gap.
        void OnStreamError(Exception e)
        {
            Interlocked.CompareExchange(ref streamError, e, null);
            try
            {
                watchCts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The watch already ended; there is nothing left to stop.
            }
        }

        // The watchdog: every event pushes the deadline out again. It also covers the open itself, which in
        // KubernetesClient's typed watch does not complete until the server sends the first event.
        watchCts.CancelAfter(options.WatchQuietTimeout);
        var timeoutSeconds = (int)Math.Max(1, options.WatchServerTimeout.TotalSeconds * (1 + random.NextDouble()));
        var startVersion = resourceVersion ?? throw new InvalidOperationException("watch before list");
        try
        {
            await foreach (var watchEvent in api.Watch(startVersion, timeoutSeconds, OnStreamError, watchCts.Token).ConfigureAwait(false))
            {
                watchCts.CancelAfter(options.WatchQuietTimeout);
                events++;
                observer.OnWatchEvent(kind, watchEvent.Type);
                if (watchEvent.Refused is { } refused)
                {
                    Refuse(watchEvent.Type, refused);
                }
                else if (!Apply(watchEvent.Type, watchEvent.Object))
                {
                    return new WatchOutcome(WatchRestartReason.Desynced, events);
                }
            }

            return streamError is null
                ? new WatchOutcome(WatchRestartReason.Closed, events)
                : new WatchOutcome(ClassifyStreamError(streamError), events);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return streamError is null
                ? new WatchOutcome(WatchRestartReason.Quiet, events)
                : new WatchOutcome(ClassifyStreamError(streamError), events);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not ChangeSinkException)
        {
            if (streamError is not null)
            {
                return new WatchOutcome(ClassifyStreamError(streamError), events);
            }

            if (watchCts.IsCancellationRequested)
            {
                // The watchdog fired and the abandoned read failed with something other than a cancellation.
                return new WatchOutcome(WatchRestartReason.Quiet, events);
            }

            if (IsGone(e))
            {
                observer.OnError(kind, ReflectorErrorKind.WatchExpired);
                LogWatchFailure(ReflectorErrorKind.WatchExpired, e.Message, e);
                return new WatchOutcome(WatchRestartReason.Expired, events);
            }

            // KubernetesClient's typed watch reads and parses the first line before the watch call returns. A stream the
            // server closes before sending anything therefore surfaces as an EndOfStreamException instead of an empty
            // enumeration, and an undecodable first line as a JsonException instead of through onError.
            if (Caused<EndOfStreamException>(e))
            {
                return new WatchOutcome(WatchRestartReason.Closed, events);
            }

            if (Caused<JsonException>(e))
            {
                return new WatchOutcome(ClassifyStreamError(e), events);
            }

            observer.OnError(kind, ReflectorErrorKind.Watch);
            LogWatchFailure(ReflectorErrorKind.Watch, e.Message, e);
            return new WatchOutcome(WatchRestartReason.Failed, events);
        }
    }

    /// <summary>
    /// An event whose object could not be decoded: refused alone. Nothing is delivered and the store keeps what it had
    /// (the sink keeps the last good state), but the stream's version moves past it: a reopened watch must not read it
    /// again, and a relist, which would refuse it just the same, is no remedy.
    /// </summary>
    private void Refuse(WatchEventType type, Decoding.RefusedObject refused)
    {
        observer.OnError(kind, ReflectorErrorKind.Refused);
        ReflectorLog.WatchObjectRefused(logger, kind, refused.Key ?? "an unnamed object", type, refused.ResourceVersion, refused.Reason);
        if (!string.IsNullOrEmpty(refused.ResourceVersion))
        {
            resourceVersion = refused.ResourceVersion;
        }
    }

    /// <summary>Applies one watch event; false when the stream can no longer be trusted and a relist is needed.</summary>
    private bool Apply(WatchEventType type, T? obj)
    {
        switch (type)
        {
            case WatchEventType.Bookmark:
                var bookmarkVersion = obj?.Metadata?.ResourceVersion;
                if (!string.IsNullOrEmpty(bookmarkVersion))
                {
                    resourceVersion = bookmarkVersion;
                }

                ReflectorLog.WatchEvent(logger, kind, type, "", bookmarkVersion);
                return true;

            case WatchEventType.Added:
            case WatchEventType.Modified:
            case WatchEventType.Deleted:
                var key = obj is null ? null : ReflectorStore<T>.KeyOf(obj);
                if (obj is null || key is null)
                {
                    observer.OnError(kind, ReflectorErrorKind.Decode);
                    ReflectorLog.NamelessObject(logger, kind, type);
                    return false;
                }

                ReflectorLog.WatchEvent(logger, kind, type, key, obj.Metadata.ResourceVersion);
                var change = store.Apply(type, obj);
                if (change is not null)
                {
                    Deliver(change.Value);
                }

                if (!string.IsNullOrEmpty(obj.Metadata.ResourceVersion))
                {
                    resourceVersion = obj.Metadata.ResourceVersion;
                }

                return true;

            default:
                // An ERROR event whose object was not recognisably a Status reached us as a T: the stream is broken.
                observer.OnError(kind, ReflectorErrorKind.WatchStatus);
                LogWatchFailure(ReflectorErrorKind.WatchStatus, $"unexpected {type} event", null);
                return false;
        }
    }

    private WatchRestartReason ClassifyStreamError(Exception e)
    {
        ReflectorErrorKind errorKind;
        WatchRestartReason reason;
        if (e is KubernetesException { Status: var status } && IsGoneStatus(status))
        {
            (errorKind, reason) = (ReflectorErrorKind.WatchExpired, WatchRestartReason.Expired);
        }
        else if (e is KubernetesException)
        {
            (errorKind, reason) = (ReflectorErrorKind.WatchStatus, WatchRestartReason.Desynced);
        }
        else
        {
            (errorKind, reason) = (ReflectorErrorKind.Decode, WatchRestartReason.Desynced);
        }

        observer.OnError(kind, errorKind);
        LogWatchFailure(errorKind, e.Message, e);
        return reason;
    }

    private void Deliver(ObjectChange<T> change)
    {
        try
        {
            deliver(change);
        }
        catch (Exception e)
        {
            throw new ChangeSinkException(kind, ReflectorStore<T>.KeyOf((change.Current ?? change.Previous)!), e);
        }
    }

    private void LogListFailure(ReflectorErrorKind errorKind, TimeSpan delay, Exception e)
    {
        ReflectorLog.FailureDetail(logger, kind, errorKind, e);
        if (failureLog.ShouldLog($"list {errorKind}: {e.Message}", out var notLogged))
        {
            if (notLogged == 0)
            {
                ReflectorLog.ListFailed(logger, kind, errorKind, e.Message, delay);
            }
            else
            {
                ReflectorLog.ListStillFailing(logger, kind, errorKind, e.Message, delay, notLogged);
            }
        }
    }

    private void LogWatchFailure(ReflectorErrorKind errorKind, string message, Exception? e)
    {
        if (e is not null)
        {
            ReflectorLog.FailureDetail(logger, kind, errorKind, e);
        }

        if (failureLog.ShouldLog($"watch {errorKind}: {message}", out var notLogged))
        {
            if (notLogged == 0)
            {
                ReflectorLog.WatchFailed(logger, kind, errorKind, message);
            }
            else
            {
                ReflectorLog.WatchStillFailing(logger, kind, errorKind, message, notLogged);
            }
        }
    }

    private void LogRecovery()
    {
        var failures = failureLog.Recovered(out var notLogged);
        if (failures > 0)
        {
            ReflectorLog.Recovered(logger, kind, failures, notLogged);
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        ReflectorLog.Backoff(logger, kind, delay);
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsGone(Exception e) =>
        e is HttpOperationException { Response.StatusCode: HttpStatusCode.Gone }
        || (e is KubernetesException { Status: var status } && IsGoneStatus(status));

    private static bool IsGoneStatus(V1Status? status) =>
        status is not null && (status.Code == 410 || status.Reason is "Expired" or "Gone" or "ResourceExpired");

    private static bool Caused<TException>(Exception e)
        where TException : Exception
    {
        for (var inner = (Exception?)e; inner is not null; inner = inner.InnerException)
        {
            if (inner is TException)
            {
                return true;
            }
        }

        return false;
    }

    private readonly record struct WatchOutcome(WatchRestartReason Reason, int Events);
}
