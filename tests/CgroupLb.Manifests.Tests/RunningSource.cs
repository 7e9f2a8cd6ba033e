using CgroupLb.Manifests;
using CgroupLb.Model.Changes;

namespace CgroupLb.Manifests.Tests;

/// <summary>A <see cref="ManifestSource"/> running in the background for one test; disposing stops it and waits.</summary>
internal sealed class RunningSource(Task run, CancellationTokenSource cancellation) : IAsyncDisposable
{
    public static RunningSource Start(IClusterChangeSink sink, ManifestSource source)
    {
        var cancellation = new CancellationTokenSource();
        return new RunningSource(source.RunAsync(sink, cancellation.Token), cancellation);
    }

    /// <summary>Polls <paramref name="condition"/> for up to 10 s, so a bug fails the test instead of hanging it.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited for {what}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await cancellation.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        cancellation.Dispose();
    }
}
