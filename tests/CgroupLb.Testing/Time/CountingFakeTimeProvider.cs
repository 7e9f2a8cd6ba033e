using Microsoft.Extensions.Time.Testing;

namespace CgroupLb.Testing.Time;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts the timers armed on it. A loop that arms one timer per pass (a poll,
/// a retry) has finished a pass and is waiting for the next when the count goes up, so a negative check ("several
/// passes change nothing") waits for passes that really ran instead of sleeping for a guessed time.
/// </summary>
public sealed class CountingFakeTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int timersArmed;

    /// <summary>Starts at the real current time, so file stamps and the fake clock agree on what is recent.</summary>
    public CountingFakeTimeProvider()
        : this(DateTimeOffset.UtcNow)
    {
    }

    /// <summary>
    /// Timers given a finite due time, counted once the due time is set. (A CancellationTokenSource creates its timer
    /// disarmed and arms it with Change: counting at creation would let a test advance the clock in between, and the
    /// timer would then never fire.)
    /// </summary>
    public int TimersArmed => Volatile.Read(ref timersArmed);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ArmCountingTimer(base.CreateTimer(callback, state, dueTime, period), this);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Interlocked.Increment(ref timersArmed);
        }

        return timer;
    }

    private sealed class ArmCountingTimer(ITimer inner, CountingFakeTimeProvider owner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = inner.Change(dueTime, period);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Interlocked.Increment(ref owner.timersArmed);
            }

            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
