using System.Diagnostics;
using Xunit.Sdk;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>Polls until a condition holds or a deadline passes, so a broken agent fails a test instead of hanging it.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Returns the first value <paramref name="probe"/> produces that satisfies <paramref name="done"/>.</summary>
    public static async Task<T> MatchAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            T value = await probe();
            if (done(value))
                return value;
            if (clock.Elapsed > limit)
                throw new XunitException($"{what}: not reached within {limit.TotalSeconds:0.#}s; last seen: {value}");
            await Task.Delay(200);
        }
    }
}
