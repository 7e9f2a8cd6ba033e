using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Runs the configured source (manifests or the Kubernetes watch) for the life of the host. A source that fails for
/// good stops the host with an error rather than leaving an agent that silently stopped following changes.
/// </summary>
internal sealed class SourceService(Func<CancellationToken, Task> run, string description, IHostApplicationLifetime lifetime, ILogger<SourceService> logger)
    : BackgroundService
{
    public Exception? Failure { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await run(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Failure = ex;
            logger.LogCritical("Source {Source} failed: {Message}", description, ex.Message);
            lifetime.StopApplication();
        }
    }
}
