using CgroupLb.Kubernetes.Reflection;

namespace CgroupLb.Kubernetes.Tests;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void DelaysDoubleUpToTheCapAndStartOverAfterReset()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), jitter: 0, new Random(1));

        var delays = Enumerable.Range(0, 6).Select(_ => backoff.NextDelay().TotalMilliseconds).ToArray();
        Assert.Equal([100, 200, 400, 800, 1000, 1000], delays);

        backoff.Reset();
        Assert.Equal(100, backoff.NextDelay().TotalMilliseconds);
    }

    [Fact]
    public void JitterSpreadsDelaysWithinItsBounds()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), jitter: 0.2, new Random(7));

        var delays = Enumerable.Range(0, 200).Select(_ => backoff.NextDelay().TotalMilliseconds).ToArray();
        Assert.All(delays, d => Assert.InRange(d, 800, 1200));
        Assert.True(delays.Distinct().Count() > 100, "delays are spread, not identical");
    }

    [Fact]
    public void ManyFailuresDoNotOverflow()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), jitter: 0, new Random(1));
        for (var i = 0; i < 10_000; i++)
        {
            backoff.NextDelay();
        }

        Assert.Equal(30_000, backoff.NextDelay().TotalMilliseconds);
    }
}
