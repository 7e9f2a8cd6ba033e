using System.Collections.Immutable;
using System.Threading.Channels;
using CgroupLb.Model.Sync;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// Takes removed backends from the syncer (<see cref="IBackendRemovalObserver"/>) without blocking it and closes
/// their sockets on a worker of its own; removals that arrive while a pass runs are merged into the next one.
/// Owns the <see cref="SocketTerminator"/>; Dispose finishes the pass in progress and stops.
/// </summary>
public sealed class SocketTerminationQueue : IBackendRemovalObserver, IDisposable
{
    private readonly SocketTerminator terminator;
    private readonly ILogger logger;
    private readonly Channel<ImmutableArray<RemovedBackend>> pending =
        Channel.CreateUnbounded<ImmutableArray<RemovedBackend>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task worker;

    public SocketTerminationQueue(SocketTerminator terminator, ILogger logger)
    {
        this.terminator = terminator;
        this.logger = logger;
        worker = Task.Run(RunAsync);
    }

    public SocketTerminationMethod Method => terminator.Method;

    /// <summary>Opens a terminator for <paramref name="options"/> (probing and logging the method) and starts its worker.</summary>
    public static SocketTerminationQueue Start(SocketTerminationOptions options, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("CgroupLb.SocketTermination");
        return new SocketTerminationQueue(SocketTerminator.Open(options, logger), logger);
    }

    public void OnBackendsRemoved(ImmutableArray<RemovedBackend> removed)
    {
        if (terminator.Method != SocketTerminationMethod.None)
            pending.Writer.TryWrite(removed);
    }

    private async Task RunAsync()
    {
        while (await pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = new HashSet<RemovedBackend>();
            while (pending.Reader.TryRead(out var removed))
                batch.UnionWith(removed);
            try
            {
                terminator.Terminate(batch);
            }
            catch (Exception ex)
            {
                // Termination is a courtesy to clients; the maps are already right, so a failure never stops the agent.
                logger.LogWarning(ex, "Socket termination for {Count} removed backends failed", batch.Count);
            }
        }
    }

    public void Dispose()
    {
        pending.Writer.TryComplete();
        worker.Wait(TimeSpan.FromSeconds(10));
        terminator.Dispose();
    }
}
