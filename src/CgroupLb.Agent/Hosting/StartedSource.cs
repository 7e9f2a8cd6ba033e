namespace CgroupLb.Agent.Hosting;

/// <summary>
/// The source's run loop, started before the data path is loaded and attached, so that its first read (parsing and
/// tracking 10k Services takes seconds) runs on the thread pool while the calling thread loads, verifies and attaches
/// the programs, instead of after them. The source only feeds the change tracker: nothing reaches the maps before the
/// syncer runs, which starts after the attach, and readiness still waits for the first complete sync.
/// <see cref="SourceService"/> takes the running loop over once the host starts.
/// </summary>
internal sealed class StartedSource : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Task run;

    public StartedSource(Func<CancellationToken, Task> run)
    {
        // Task.Run: nothing of the source's synchronous start (its watcher, the first read) runs on the caller's thread.
        this.run = Task.Run(() => run(stop.Token));
    }

    /// <summary>Completes when the source ends (or fails); <paramref name="stopping"/> stops it.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var stopWithHost = stopping.Register(stop.Cancel);
        await run;
    }

    /// <summary>
    /// Stops the source. After the host ran it has ended already; when setup failed before that, the setup error must
    /// not wait for a first read that notices the cancellation only once it is done, so the loop is left to end on its
    /// own (it writes nothing) and a failure of it is observed, never rethrown: the setup error is the one reported.
    /// The token source is not disposed: the host's stop may still cancel it, and it holds no timer or wait handle.
    /// </summary>
    public void Dispose()
    {
        stop.Cancel();
        _ = run.ContinueWith(static ended => _ = ended.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
