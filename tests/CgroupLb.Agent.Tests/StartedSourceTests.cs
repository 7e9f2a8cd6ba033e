using CgroupLb.Agent.Hosting;

namespace CgroupLb.Agent.Tests;

/// <summary>
/// The source started before the data path attaches: it runs at once, off the caller's thread; the host's stop ends
/// it; its failure reaches the host; and a setup error after its start neither waits for nor is hidden by it.
/// </summary>
public sealed class StartedSourceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RunsOffTheCallersThreadBeforeTheHostTakesItOverAndStopsWithTheHost()
    {
        using var running = new ManualResetEventSlim();
        int sourceThread = -1;
        using var started = new StartedSource(async ct =>
        {
            Volatile.Write(ref sourceThread, Environment.CurrentManagedThreadId);
            running.Set();
            await Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => { }, TaskScheduler.Default);
        });

        // Blocking the caller's thread (as the load and attach do) must not hold the source back.
        Assert.True(running.Wait(Patience), "the source did not start while the caller's thread was blocked");
        Assert.NotEqual(Environment.CurrentManagedThreadId, Volatile.Read(ref sourceThread));

        using var hostStopping = new CancellationTokenSource();
        var hosted = started.RunAsync(hostStopping.Token);
        Assert.False(hosted.IsCompleted);
        await hostStopping.CancelAsync();
        await hosted.WaitAsync(Patience);
    }

    [Fact]
    public async Task AFailureOfTheSourceReachesTheHost()
    {
        using var started = new StartedSource(_ => Task.FromException(new InvalidOperationException("manifest path vanished")));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => started.RunAsync(CancellationToken.None).WaitAsync(Patience));
        Assert.Equal("manifest path vanished", error.Message);
    }

    [Fact]
    public async Task DisposingAfterASetupErrorCancelsTheSourceWithoutWaitingForItsFirstRead()
    {
        var firstReadMayEnd = new ManualResetEventSlim();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool readEnded = false;
        var started = new StartedSource(ct =>
        {
            ct.Register(cancelled.SetResult);
            firstReadMayEnd.Wait(Patience); // a first read that does not look at the token
            Volatile.Write(ref readEnded, true);
            throw new InvalidOperationException("the source failed after the agent gave up");
        });

        started.Dispose(); // the setup error is on its way out: no waiting, and the source's failure is not rethrown
        Assert.False(Volatile.Read(ref readEnded));
        await cancelled.Task.WaitAsync(Patience);
        firstReadMayEnd.Set();
    }
}
