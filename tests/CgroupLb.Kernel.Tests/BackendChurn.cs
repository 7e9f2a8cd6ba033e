using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit;

namespace CgroupLb.Kernel.Tests;

/// <summary>
/// The writer's promise under load, for either family: while one client connects back to back to a ClusterIP, its
/// backend set is replaced hundreds of times, and no connect may fail or land on a backend that was not live at that
/// moment. A second service on b4 stays in the maps throughout, so a slot naming a wrong or recycled backend id shows
/// up as a connect answered by b4. The test names carry "Churn", so the emulated guests leave them out (wall-clock bound).
/// </summary>
internal static class BackendChurn
{
    private static readonly TimeSpan LoopDuration = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ApplyPause = TimeSpan.FromMilliseconds(3);
    private const int MinConnects = 500;
    private const int MinSetChanges = 200;
    private const int MaxLoopRounds = 10;

    /// <summary>One Apply: the set it installed and when it ran, in CLOCK_MONOTONIC ns like the peer's trace.</summary>
    private sealed record SetChange(long Started, long Finished, ImmutableHashSet<string> Backends);

    /// <summary>
    /// Churns <paramref name="web"/> over proper subsets of b1..b3 (whichever set is live, one of them must not be
    /// reached) and asserts the promise. <paramref name="service"/> builds the service of a frontend and backends.
    /// </summary>
    public static async Task AssertNoFailedOrMisroutedConnectAsync(
        KernelSandbox sandbox, LoadBalancerDatapath datapath, IPEndPoint web, IPEndPoint other,
        Func<IPAddress, ushort, IEnumerable<SandboxBackend>, LoadBalancerService> service, int seed, Action<string> log)
    {
        SandboxBackend[] pool = [sandbox.Backend("b1"), sandbox.Backend("b2"), sandbox.Backend("b3")];
        SandboxBackend[][] sets =
        [
            [pool[0]], [pool[1]], [pool[2]], [pool[0], pool[1]], [pool[1], pool[2]], [pool[0], pool[2]],
        ];
        LoadBalancerService otherService = service(other.Address, (ushort)other.Port, [sandbox.Backend("b4")]);
        var random = new Random(seed);
        var changes = new List<SetChange>();
        SandboxBackend[] current = sets[0];
        changes.Add(ApplyTimed(datapath, service(web.Address, (ushort)web.Port, current), current, otherService));

        // A busy machine connects more slowly, not less correctly: loop rounds go on until enough connects and set
        // changes have happened (bounded), so load lengthens the test instead of failing it.
        var attempts = new List<TcpLoopRun.Attempt>();
        var byBackend = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var errors = new List<string>();
        int failures = 0;
        for (int round = 0; round < MaxLoopRounds && (attempts.Count < MinConnects || changes.Count <= MinSetChanges); round++)
        {
            Task<TcpLoopRun> loop = sandbox.TcpLoopAsync(web, LoopDuration);
            while (!loop.IsCompleted)
            {
                SandboxBackend[] next;
                do next = sets[random.Next(sets.Length)]; while (next == current);
                current = next;
                changes.Add(ApplyTimed(datapath, service(web.Address, (ushort)web.Port, current), current, other: null));
                await Task.Delay(ApplyPause);
            }
            TcpLoopRun run = await loop;
            attempts.AddRange(run.Attempts);
            failures += run.Summary.Failures;
            errors.AddRange(run.Summary.Errors.Keys);
            foreach ((string backend, int count) in run.Summary.ByBackend)
                byBackend[backend] = byBackend.GetValueOrDefault(backend) + count;
        }

        log($"{changes.Count - 1} set changes; {attempts.Count} connects: " +
            string.Join(", ", byBackend.Select(kv => $"{kv.Key}={kv.Value}")) +
            (failures > 0 ? "; errors: " + string.Join(", ", errors.Distinct()) : ""));
        Assert.True(changes.Count > MinSetChanges, $"only {changes.Count - 1} set changes happened during the loop");
        Assert.True(attempts.Count >= MinConnects, $"only {attempts.Count} connects happened during {MaxLoopRounds} rounds of churn");
        Assert.Equal(0, failures);
        List<string> misrouted = attempts
            .Where(a => a.Backend is not null)
            .Select(a => (Attempt: a, Allowed: BackendsLiveDuring(changes, a.S, a.E)))
            .Where(x => !x.Allowed.Contains(x.Attempt.Backend!))
            .Take(10)
            .Select(x => $"connect [{x.Attempt.S}..{x.Attempt.E}] reached {x.Attempt.Backend}, live sets allowed only {string.Join(",", x.Allowed.Order())}")
            .ToList();
        Assert.True(misrouted.Count == 0, "misrouted connects:\n" + string.Join("\n", misrouted));
        Assert.Equal(service(web.Address, (ushort)web.Port, current),
            datapath.Writer.ReadApplied()[new Frontend(web.Address, (ushort)web.Port, L4Protocol.Tcp)]);
    }

    private static SetChange ApplyTimed(LoadBalancerDatapath datapath, LoadBalancerService web, SandboxBackend[] set, LoadBalancerService? other)
    {
        LoadBalancerPlan plan = new(other is null ? [web] : [web, other], []);
        long started = MonotonicNanoseconds();
        datapath.Writer.Apply(plan);
        return new SetChange(started, MonotonicNanoseconds(), [.. set.Select(b => b.Name)]);
    }

    /// <summary>
    /// Every backend a connect running from <paramref name="start"/> to <paramref name="end"/> may legitimately reach:
    /// change k's set can be live from the moment its Apply starts until the next Apply finishes.
    /// </summary>
    private static ImmutableHashSet<string> BackendsLiveDuring(List<SetChange> changes, long start, long end)
    {
        var allowed = ImmutableHashSet.CreateBuilder<string>();
        for (int k = 0; k < changes.Count; k++)
        {
            long liveFrom = changes[k].Started;
            long liveUntil = k + 1 < changes.Count ? changes[k + 1].Finished : long.MaxValue;
            if (liveFrom <= end && liveUntil >= start)
                allowed.UnionWith(changes[k].Backends);
        }
        return allowed.ToImmutable();
    }

    /// <summary>The clock cglb-testpeer stamps its trace with (Stopwatch reads CLOCK_MONOTONIC on Linux).</summary>
    private static long MonotonicNanoseconds() =>
        (long)((Int128)Stopwatch.GetTimestamp() * 1_000_000_000 / Stopwatch.Frequency);
}
