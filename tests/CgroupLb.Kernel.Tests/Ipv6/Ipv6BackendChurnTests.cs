using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using CgroupLb.Datapath.Loading;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Testing.Sandbox;
using Xunit.Abstractions;
using static CgroupLb.Kernel.Tests.Ipv4.SandboxServices;
using static CgroupLb.Kernel.Tests.Ipv6.Ipv6Services;

namespace CgroupLb.Kernel.Tests.Ipv6;

/// <summary>
/// The IPv4 churn test (Ipv4.BackendChurnTests) on lb6_services: while one client connects back to back to an IPv6
/// ClusterIP, its backend set is replaced hundreds of times, and no connect fails or lands on a backend that was not
/// live at that moment. Its name carries "Churn", so the emulated guests leave it out (wall-clock bound).
/// </summary>
[Collection(KernelTestCollection.Name)]
[Trait("Category", KernelTestCollection.Category)]
public sealed class Ipv6BackendChurnTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Web6 = new(Vip6(0x20), 80);
    private static readonly TimeSpan LoopDuration = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ApplyPause = TimeSpan.FromMilliseconds(3);
    private readonly TestOutputLog _log = new(output);

    private sealed record SetChange(long Started, long Finished, ImmutableHashSet<string> Backends);

    [SkippableFact]
    public async Task Replacing_ipv6_backend_sets_under_a_connect_loop_never_fails_or_misroutes_a_connect()
    {
        KernelTestGate.Require();
        await using KernelSandbox sandbox = await KernelSandbox.CreateAsync(backendCount: 4, log: _log.Write, ipv6: true);
        using LoadBalancerDatapath datapath = LoadBalancerDatapath.Attach(sandbox.DatapathOptions(), _log);
        SandboxBackend[] pool = [sandbox.Backend("b1"), sandbox.Backend("b2"), sandbox.Backend("b3")];
        // b4 serves a second IPv6 service throughout, so a slot naming a wrong or recycled id shows up as b4.
        LoadBalancerService other = Tcp6(Vip6(0x21), 80, [sandbox.Backend("b4")]);
        SandboxBackend[][] sets =
        [
            [pool[0]], [pool[1]], [pool[2]], [pool[0], pool[1]], [pool[1], pool[2]], [pool[0], pool[2]],
        ];
        var random = new Random(20261128);
        var changes = new List<SetChange>();
        SandboxBackend[] current = sets[0];
        changes.Add(ApplyTimed(datapath, current, other));

        Task<TcpLoopRun> loop = sandbox.TcpLoopAsync(Web6, LoopDuration);
        while (!loop.IsCompleted)
        {
            SandboxBackend[] next;
            do next = sets[random.Next(sets.Length)]; while (next == current);
            current = next;
            changes.Add(ApplyTimed(datapath, current, other: null));
            await Task.Delay(ApplyPause);
        }
        TcpLoopRun run = await loop;

        _log.Write($"{changes.Count - 1} set changes; {run.Summary.Attempts} connects: " +
                   string.Join(", ", run.Summary.ByBackend.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")) +
                   (run.Summary.Failures > 0 ? "; errors: " + string.Join(", ", run.Summary.Errors) : ""));
        Assert.True(changes.Count > 200, $"only {changes.Count - 1} set changes happened during the loop");
        Assert.True(run.Attempts.Count > 500, $"only {run.Attempts.Count} connects happened during the churn");
        Assert.Equal(0, run.Summary.Failures);
        List<string> misrouted = run.Attempts
            .Where(a => a.Backend is not null)
            .Select(a => (Attempt: a, Allowed: BackendsLiveDuring(changes, a.S, a.E)))
            .Where(x => !x.Allowed.Contains(x.Attempt.Backend!))
            .Take(10)
            .Select(x => $"connect [{x.Attempt.S}..{x.Attempt.E}] reached {x.Attempt.Backend}, live sets allowed only {string.Join(",", x.Allowed.Order())}")
            .ToList();
        Assert.True(misrouted.Count == 0, "misrouted connects:\n" + string.Join("\n", misrouted));
        Assert.Equal(Tcp6(Web6.Address, 80, current), datapath.Writer.ReadApplied()[new Frontend(Web6.Address, 80, L4Protocol.Tcp)]);
    }

    private static SetChange ApplyTimed(LoadBalancerDatapath datapath, SandboxBackend[] set, LoadBalancerService? other)
    {
        LoadBalancerService web = Tcp6(Web6.Address, 80, set);
        LoadBalancerPlan plan = other is null ? Upsert(web) : Upsert(web, other);
        long started = MonotonicNanoseconds();
        datapath.Writer.Apply(plan);
        return new SetChange(started, MonotonicNanoseconds(), [.. set.Select(b => b.Name)]);
    }

    /// <summary>Change k's set can be live from the moment its Apply starts until the next Apply finishes.</summary>
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

    private static long MonotonicNanoseconds() =>
        (long)((Int128)Stopwatch.GetTimestamp() * 1_000_000_000 / Stopwatch.Frequency);
}
