using CgroupLb.Model.Kubernetes;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Manifests;

internal static partial class ManifestLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Manifest error: {Error}")]
    public static partial void ErrorFound(ILogger logger, ManifestError error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Manifest error resolved: {Error}")]
    public static partial void ErrorResolved(ILogger logger, ManifestError error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignoring {Document}")]
    public static partial void DocumentIgnored(ILogger logger, ManifestIgnoredDocument document);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keeping last good state of {Retention}")]
    public static partial void Retained(ILogger logger, ManifestRetention retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Holding {Hold}; the maps keep what they hold for this service until the document is fixed or removed")]
    public static partial void Held(ILogger logger, ManifestHold hold);

    [LoggerMessage(Level = LogLevel.Information, Message = "Service {Service} no longer held: its documents are valid or gone")]
    public static partial void Released(ILogger logger, ServiceName service);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{File} doc {DocumentIndex} ({Object}) is invalid, has no last good state and names no Service (label " + WellKnownLabels.ServiceName + "): no service can be held for it, so its service is synced without these endpoints")]
    public static partial void CannotHold(ILogger logger, string file, int documentIndex, ManifestObjectKey @object);

    [LoggerMessage(Level = LogLevel.Information, Message = "Manifests from {Path}: {Created} created, {Updated} updated, {Deleted} deleted")]
    public static partial void Applied(ILogger logger, string path, int created, int updated, int deleted);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Manifest {Change} {Object}")]
    public static partial void Change(ILogger logger, string change, ManifestObjectKey @object);

    [LoggerMessage(Level = LogLevel.Information, Message = "Manifests from {Path} synced: {Objects} objects, {Errors} errors")]
    public static partial void Synced(ILogger logger, string path, int objects, int errors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot watch {Path} for changes ({Reason}); polling every {PollInterval}")]
    public static partial void WatchUnavailable(ILogger logger, string path, string reason, TimeSpan pollInterval);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipping {File}")]
    public static partial void FileSkipped(ILogger logger, ManifestError file);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reading manifests from {Path} failed; keeping the last good state and reading everything again on the next pass")]
    public static partial void PassFailed(ILogger logger, string path, Exception exception);
}
