using CgroupLb.Model.Sync;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// One info line per sync that changed the maps (never one per event), and the readiness flip after the first
/// complete sync. Forwards every result to the metrics.
/// </summary>
internal sealed class SyncLogger(ILogger logger, AgentReadiness readiness, AgentHealth health, ISyncObserver next) : ISyncObserver
{
    public void OnSyncCompleted(SyncResult result)
    {
        next.OnSyncCompleted(result);
        if (!result.Succeeded || result.Kind == SyncKind.NotSynced)
            return;
        health.MarkUpdated();
        if (!readiness.IsReady)
        {
            readiness.MarkReady();
            logger.LogInformation("Initial sync written: {Upserted} frontends programmed, {Deleted} removed, {Backends} backends, in {DurationMs:F1} ms",
                result.FrontendsUpserted, result.FrontendsDeleted, result.BackendsProgrammed, result.Duration.TotalMilliseconds);
            return;
        }
        if (result.FrontendsUpserted + result.FrontendsDeleted > 0)
            logger.LogInformation("Maps updated ({Kind}): {Services} services changed, {Upserted} frontends written, {Deleted} removed, {Backends} backends, in {DurationMs:F1} ms",
                result.Kind, result.ServicesChanged, result.FrontendsUpserted, result.FrontendsDeleted, result.BackendsProgrammed, result.Duration.TotalMilliseconds);
    }
}
