using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Testing.Sandbox;
using CgroupLb.Model.LoadBalancing;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;

namespace CgroupLb.Kernel.Tests.Ipv4;

/// <summary>
/// The writer's promise under load: while one client connects back to back, the backend set of its service is
/// replaced hundreds of times, and no connect fails or lands on a backend that was not live at that moment.
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class BackendChurnTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web = new(Vip(20), 80);
    private static readonly TimeSpan LoopDuration = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ApplyPause = TimeSpan.FromMilliseconds(3);
    private const int MinConnects = 500;
    private const int MinSetChanges = 200;
    private const int MaxLoopRounds = 10;
    private readonly TestOutputLog _log = new(output);

    /// <summary>One Apply: the set it installed and when it ran, in CLOCK_MONOTONIC ns like the peer's trace.</summary>
    private sealed record SetChange(long Started, long Finished, ImmutableHashSet<string> Backends);

    [SkippableFact]
    public async Task ReplacingBackendSetsUnderAConnectLoopNeverFailsOrMisroutesAConnect()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 4, log: _log.Write);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        SandboxBackend[] pool = [sandbox.Backend("b1"), sandbox.Backend("b2"), sandbox.Backend("b3")];
        // b4 serves a second service throughout. Its backend entry lives in the same maps as the churned ones, so a
        // slot pointing at a wrong or recycled backend id shows up as a web connect answered by b4.
        LoadBalancerService other = Tcp(Vip(21), 80, [sandbox.Backend("b4")]);
        // Proper subsets only: whichever set is live, at least one of b1..b3 must not be reached.
        SandboxBackend[][] sets =
        [
            [pool[0]], [pool[1]], [pool[2]], [pool[0], pool[1]], [pool[1], pool[2]], [pool[0], pool[2]],
        ];
        var random = new Random(20261127);
        var changes = new List<SetChange>();
        SandboxBackend[] current = sets[0];
        changes.Add(ApplyTimed(datapath, current, other));

        // A busy machine connects more slowly, not less correctly: loop rounds go on until enough connects and set
        // changes have happened (bounded), so load lengthens the test instead of failing it.
        var attempts = new List<TcpLoopRun.Attempt>();
        var byBackend = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var errors = new List<string>();
        int failures = 0;
        for (int round = 0; round < MaxLoopRounds && (attempts.Count < MinConnects || changes.Count <= MinSetChanges); round++)
        {
            Task<TcpLoopRun> loop = sandbox.TcpLoopAsync(Web, LoopDuration);
            while (!loop.IsCompleted)
            {
                SandboxBackend[] next;
                do next = sets[random.Next(sets.Length)]; while (next == current);
                current = next;
                changes.Add(ApplyTimed(datapath, current, other: null));
                await Task.Delay(ApplyPause);
            }
            TcpLoopRun run = await loop;
            attempts.AddRange(run.Attempts);
            failures += run.Summary.Failures;
            errors.AddRange(run.Summary.Errors.Keys);
            foreach ((string backend, int count) in run.Summary.ByBackend)
                byBackend[backend] = byBackend.GetValueOrDefault(backend) + count;
        }

        _log.Write($"{changes.Count - 1} set changes; {attempts.Count} connects: " +
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
        Assert.Equal(Tcp(Web.Address, 80, current), datapath.Writer.ReadApplied()[new Frontend(Web.Address, 80, L4Protocol.Tcp)]);
    }

    private static SetChange ApplyTimed(LoadBalancerDatapath datapath, SandboxBackend[] set, LoadBalancerService? other)
    {
        LoadBalancerService web = Tcp(Web.Address, 80, set);
        LoadBalancerPlan plan = other is null ? Upsert(web) : Upsert(web, other);
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
