using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Model.Sync;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Re-reads the --exclude-netns paths on every full sync and makes lb_skip_netns hold their cookies: a namespace that
/// went away drops out (its cookie is never reused within a boot, but the map should not fill with the dead), one
/// that appeared comes in. With no paths it keeps the map empty, which also clears what an earlier run excluded.
/// </summary>
internal sealed class NetnsExclusionOnFullSync(LoadBalancerDatapath datapath, NetnsExclusion exclusion, ILogger logger, ISyncObserver next) : ISyncObserver
{
    public void OnSyncCompleted(SyncResult result)
    {
        if (result.Kind == SyncKind.Full)
        {
            try
            {
                var (added, removed) = datapath.SetExcludedNetns(exclusion.Resolve());
                if (added + removed > 0)
                    logger.LogInformation("Excluded network namespaces updated: {Added} added, {Removed} removed", added, removed);
            }
            catch (BpfException e)
            {
                logger.LogError("Updating lb_skip_netns failed, retrying after the next full sync: {Message}", e.Message);
            }
        }
        next.OnSyncCompleted(result);
    }
}
