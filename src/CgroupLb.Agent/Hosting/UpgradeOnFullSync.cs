using CgroupLb.Datapath.Loading;
using CgroupLb.Model.Sync;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Finishes a program upgrade on adopt (<see cref="LoadBalancerDatapath.CompleteUpgrade"/>) after the first successful
/// full sync: only then do the maps this build's programs read hold every service, so swapping the links never sends
/// a connect to an empty map. A failed swap is logged and tried again after the next full sync.
/// </summary>
internal sealed class UpgradeOnFullSync(LoadBalancerDatapath datapath, ILogger logger, ISyncObserver next) : ISyncObserver
{
    public void OnSyncCompleted(SyncResult result)
    {
        if (result.Succeeded && result.Kind == SyncKind.Full && datapath.HasPendingUpgrade)
        {
            try
            {
                datapath.CompleteUpgrade(logger);
            }
            catch (DatapathException e)
            {
                logger.LogError("Program upgrade not completed, the adopted programs keep running; retrying after the next full sync: {Message}", e.Message);
            }
        }
        next.OnSyncCompleted(result);
    }
}
