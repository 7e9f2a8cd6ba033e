using Microsoft.Extensions.Logging;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// The reflector's log lines: one per list and per watch restart; per-event lines only at Debug. Failures get one
/// Warning line with the error's message (a failure that keeps repeating, at most one per interval, see
/// <see cref="FailureLogThrottle"/>) and the full exception at Debug.
/// </summary>
internal static partial class ReflectorLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "{Kind}: listed {Objects} objects in {Pages} pages at resourceVersion {ResourceVersion}, {Changes} changes")]
    public static partial void Listed(ILogger logger, string kind, int objects, int pages, string resourceVersion, int changes);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Kind}: initial list delivered, source synced")]
    public static partial void Synced(ILogger logger, string kind);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Kind}: list failed ({ErrorKind}): {Error}; retrying in {Delay}")]
    public static partial void ListFailed(ILogger logger, string kind, ReflectorErrorKind errorKind, string error, TimeSpan delay);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information,
        Message = "{Kind}: watch restarted ({Reason}) after {Events} events, at resourceVersion {ResourceVersion}, relist: {Relist}")]
    public static partial void WatchRestarted(ILogger logger, string kind, WatchRestartReason reason, int events, string resourceVersion, bool relist);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug,
        Message = "{Kind}: watch ended by the server after {Events} events, resuming at resourceVersion {ResourceVersion}")]
    public static partial void WatchClosed(ILogger logger, string kind, int events, string resourceVersion);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "{Kind}: watch failed ({ErrorKind}): {Error}")]
    public static partial void WatchFailed(ILogger logger, string kind, ReflectorErrorKind errorKind, string error);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "{Kind}: {EventType} {Key} at resourceVersion {ResourceVersion}")]
    public static partial void WatchEvent(ILogger logger, string kind, k8s.WatchEventType eventType, string key, string? resourceVersion);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "{Kind}: ignored a {EventType} event for an object without metadata.name")]
    public static partial void NamelessObject(ILogger logger, string kind, k8s.WatchEventType eventType);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "{Kind}: next attempt in {Delay}")]
    public static partial void Backoff(ILogger logger, string kind, TimeSpan delay);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning,
        Message = "{Kind}: list still failing ({ErrorKind}): {Error}; retrying in {Delay} ({NotLogged} failures since the last report not logged)")]
    public static partial void ListStillFailing(ILogger logger, string kind, ReflectorErrorKind errorKind, string error, TimeSpan delay, int notLogged);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning,
        Message = "{Kind}: watch still failing ({ErrorKind}): {Error} ({NotLogged} failures since the last report not logged)")]
    public static partial void WatchStillFailing(ILogger logger, string kind, ReflectorErrorKind errorKind, string error, int notLogged);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "{Kind}: {ErrorKind} failure")]
    public static partial void FailureDetail(ILogger logger, string kind, ReflectorErrorKind errorKind, Exception exception);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "{Kind}: recovered after {Failures} failed attempts ({NotLogged} not logged)")]
    public static partial void Recovered(ILogger logger, string kind, int failures, int notLogged);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning,
        Message = "{Kind}: refused {Object} from the list, the rest of the page applies: {Reason}")]
    public static partial void ObjectRefused(ILogger logger, string kind, string @object, string reason);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning,
        Message = "{Kind}: refused {Object} from a {EventType} watch event at resourceVersion {ResourceVersion}, keeping its last good state; later events apply: {Reason}")]
    public static partial void WatchObjectRefused(ILogger logger, string kind, string @object, k8s.WatchEventType eventType, string? resourceVersion, string reason);
}
