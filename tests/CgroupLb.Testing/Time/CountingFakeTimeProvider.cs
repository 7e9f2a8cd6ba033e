using Microsoft.Extensions.Time.Testing;

namespace CgroupLb.Testing.Time;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts the timers created on it. A loop that arms one timer per pass (a poll,
/// a retry) has finished a pass and is waiting for the next when the count goes up, so a negative check ("several
/// passes change nothing") waits for passes that really ran instead of sleeping for a guessed time.
/// </summary>
public sealed class CountingFakeTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int timersCreated;

    /// <summary>Starts at the real current time, so file stamps and the fake clock agree on what is recent.</summary>
    public CountingFakeTimeProvider()
        : this(DateTimeOffset.UtcNow)
    {
    }

    public int TimersCreated => Volatile.Read(ref timersCreated);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref timersCreated);
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
