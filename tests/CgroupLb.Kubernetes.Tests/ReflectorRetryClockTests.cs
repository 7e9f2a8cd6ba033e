using System.Runtime.CompilerServices;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Testing;
using CgroupLb.Testing.Time;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>The reflector's retry delay runs on its TimeProvider, so a test can hold it (or skip it) on a fake clock.</summary>
public sealed class ReflectorRetryClockTests
{
    [Fact(Timeout = 30_000)]
    public async Task AFailedListIsRetriedWhenTheInjectedClockPassesTheBackoff()
    {
        var clock = new CountingFakeTimeProvider();
        var lists = 0;
        var api = new ResourceApi<V1Service>(
            (_, _, _) => Interlocked.Increment(ref lists) == 1
                ? throw new HttpRequestException("Connection refused (127.0.0.1:6443)")
                : Task.FromResult(new ResourceListPage<V1Service>([], "100", null)),
            (_, _, _, cancellationToken) => Silent(cancellationToken));
        var synced = new TaskCompletionSource();
        var reflector = new Reflector<V1Service>(
            "services",
            api,
            new ReflectorOptions { BackoffInitial = TimeSpan.FromMinutes(1), BackoffMax = TimeSpan.FromMinutes(1), BackoffJitter = 0 },
            _ => { },
            () => synced.TrySetResult(),
            time: clock);
        using var stop = new CancellationTokenSource();
        var run = reflector.RunAsync(stop.Token);

        // A real-time delay would arm no timer on the fake clock and this wait would time out.
        await Eventually.TrueAsync(() => clock.TimersArmed > 0, TimeSpan.FromSeconds(10), () => "the retry delay to wait on the injected clock");
        Assert.Equal(1, Volatile.Read(ref lists));
        Assert.False(synced.Task.IsCompleted);

        clock.Advance(TimeSpan.FromMinutes(1));
        await synced.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, Volatile.Read(ref lists));
        await stop.CancelAsync();
        await run;
    }

    [Fact(Timeout = 30_000)]
    public async Task AListPageThatNeverAnswersIsAbandonedAfterThePageTimeoutAndRetried()
    {
        var clock = new CountingFakeTimeProvider();
        var lists = 0;
        var api = new ResourceApi<V1Service>(
            async (_, _, cancellationToken) =>
            {
                if (Interlocked.Increment(ref lists) == 1)
                {
                    // A response that never completes: only the reflector's own page timeout can end this call.
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }

                return new ResourceListPage<V1Service>([], "100", null);
            },
            (_, _, _, cancellationToken) => Silent(cancellationToken));
        var observer = new RecordingReflectorObserver();
        var synced = new TaskCompletionSource();
        var reflector = new Reflector<V1Service>(
            "services",
            api,
            new ReflectorOptions
            {
                ListPageTimeout = TimeSpan.FromMinutes(1), BackoffInitial = TimeSpan.FromMinutes(2), BackoffMax = TimeSpan.FromMinutes(2), BackoffJitter = 0,
            },
            _ => { },
            () => synced.TrySetResult(),
            observer,
            time: clock);
        using var stop = new CancellationTokenSource();
        var run = reflector.RunAsync(stop.Token);

        await Eventually.TrueAsync(() => clock.TimersArmed > 0, TimeSpan.FromSeconds(10), () => "the page timeout armed on the injected clock");
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, observer.Errors("services", ReflectorErrorKind.List));

        clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(
            () => observer.Errors("services", ReflectorErrorKind.List) == 1 && clock.TimersArmed > 1,
            TimeSpan.FromSeconds(10),
            () => "the stuck page counted as a list failure and the retry delay armed: " + observer.Describe());
        Assert.False(synced.Task.IsCompleted);

        clock.Advance(TimeSpan.FromMinutes(2));
        await synced.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, Volatile.Read(ref lists));
        await stop.CancelAsync();
        await run;
    }

    private static async IAsyncEnumerable<(WatchEventType, V1Service)> Silent([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield break;
    }
}
