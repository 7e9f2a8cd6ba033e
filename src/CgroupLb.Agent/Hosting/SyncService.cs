using CgroupLb.Model.Sync;
using Microsoft.Extensions.Hosting;

namespace CgroupLb.Agent.Hosting;

/// <summary>Runs the syncer loop: waits for changes, coalesces bursts, writes the maps, retries with backoff.</summary>
internal sealed class SyncService(LoadBalancerSyncer syncer) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await syncer.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
