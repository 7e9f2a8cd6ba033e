using System.Runtime.CompilerServices;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Testing.Logging;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// While the API server is down every retry fails the same way; the log must say so in one line per failure that is
/// new, at most one per interval for one that repeats, and never print the stack trace above Debug.
/// </summary>
public sealed class ReflectorFailureLogTests
{
    private const string Refused = "Connection refused (127.0.0.1:6443)";
    private readonly ManualTime time = new();

    [Fact]
    public void RepeatsOfOneFailureAreLoggedOncePerIntervalWithTheirCount()
    {
        var throttle = new FailureLogThrottle(TimeSpan.FromSeconds(30), time);

        Assert.True(throttle.ShouldLog("list: refused", out var first));
        var repeats = Enumerable.Range(0, 5).Select(_ => { time.Advance(TimeSpan.FromSeconds(5)); return throttle.ShouldLog("list: refused", out _); }).ToList();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(throttle.ShouldLog("list: refused", out var afterInterval));
        Assert.True(throttle.ShouldLog("list: timed out", out var different));

        Assert.Equal(0, first);
        Assert.All(repeats, Assert.False);
        Assert.Equal(5, afterInterval);
        Assert.Equal(0, different);
        Assert.Equal(8, throttle.Recovered(out var notLogged));
        Assert.Equal(5, notLogged);
        Assert.Equal(0, throttle.Recovered(out _));
        Assert.True(throttle.ShouldLog("list: refused", out _));
    }

    [Fact]
    public void RecoveryIsWorthALineOnlyWhenSomeFailuresWentUnlogged()
    {
        var throttle = new FailureLogThrottle(TimeSpan.FromSeconds(30), time);
        throttle.ShouldLog("watch: gone", out _);
        throttle.ShouldLog("list: refused", out _);

        Assert.Equal(0, throttle.Recovered(out var notLogged));
        Assert.Equal(0, notLogged);
    }

    [Fact(Timeout = 30_000)]
    public async Task ListFailingDuringAnOutageLogsOneLineAtATimeAndTheRecovery()
    {
        var logger = new ListLogger();
        var lists = 0;
        var api = new ResourceApi<V1Service>(
            (_, _, _) =>
            {
                // Twelve failures five seconds apart, as the API server is down for a minute.
                if (++lists <= 12)
                {
                    time.Advance(TimeSpan.FromSeconds(5));
                    throw new HttpRequestException(Refused, new IOException("socket detail that belongs at Debug"));
                }

                return Task.FromResult(new ResourceListPage<V1Service>([], "100", null));
            },
            (_, _, _, cancellationToken) => Silent(cancellationToken));
        using var stop = new CancellationTokenSource();
        var synced = new TaskCompletionSource();
        var reflector = new Reflector<V1Service>(
            "services",
            api,
            new ReflectorOptions { BackoffInitial = TimeSpan.FromMilliseconds(1), BackoffMax = TimeSpan.FromMilliseconds(2), BackoffJitter = 0 },
            _ => { },
            () => synced.TrySetResult(),
            logger: logger,
            time: time);

        var run = reflector.RunAsync(stop.Token);
        await synced.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await stop.CancelAsync();
        await run;

        var warnings = logger.Lines(LogLevel.Warning);
        Assert.Equal(2, warnings.Count);
        Assert.StartsWith($"services: list failed (List): {Refused}; retrying in ", warnings[0]);
        Assert.StartsWith($"services: list still failing (List): {Refused}; retrying in ", warnings[1]);
        Assert.EndsWith("(5 failures since the last report not logged)", warnings[1]);
        Assert.All(warnings, w => Assert.DoesNotContain("\n", w));
        Assert.Equal(12, logger.Entries.Count(e => e.Level == LogLevel.Debug && e.Exception is HttpRequestException));
        Assert.Contains("services: recovered after 12 failed attempts (10 not logged)", logger.Lines(LogLevel.Information));
    }

    private static async IAsyncEnumerable<(WatchEventType, V1Service)> Silent([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield break;
    }

    private sealed class ManualTime : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
    }
}
