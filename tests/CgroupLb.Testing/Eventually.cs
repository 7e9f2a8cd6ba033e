using System.Diagnostics;

namespace CgroupLb.Testing;

/// <summary>
/// Polls until a condition holds or a deadline passes, so a bug fails the test instead of hanging it. For positive
/// checks only ("it happens"); a negative check ("nothing happens for N seconds") runs on a FakeTimeProvider.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Waits until <paramref name="condition"/> holds; returns how long that took.</summary>
    public static async Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"not true after {timeout}: {describe()}");
            }

            await Task.Delay(20);
        }

        return clock.Elapsed;
    }

    /// <summary>Returns the first value <paramref name="probe"/> produces that satisfies <paramref name="done"/>.</summary>
    public static async Task<T> MatchAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"{what}: not reached within {limit.TotalSeconds:0.#}s; last seen: {value}");
            }

            await Task.Delay(200);
        }
    }
}
