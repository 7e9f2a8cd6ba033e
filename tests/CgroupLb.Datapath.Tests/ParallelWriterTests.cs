using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// The writer with parallel steps, over the recording fake behind a lock (<see cref="ConcurrentCallMaps"/>) with tiny
/// chunks: a large step's chunks run on several threads, every call of a step returns before the next step's first,
/// names come before the first master, a partial sync stays on the calling thread, and when one chunk fails the
/// per-frontend fallback starts only after every chunk has returned and leaves the maps exactly as a one-thread writer
/// leaves them.
/// </summary>
public class ParallelWriterTests
{
    private static readonly WriteParallelism Tiny = new(3, 40);

    private static Frontend Fe(int n) => new(IPAddress.Parse($"198.51.{100 + n / 250}.{n % 250 + 1}"), 80, L4Protocol.Tcp);
    private static Backend B(int n) => new(IPAddress.Parse($"198.18.{n / 250}.{n % 250 + 1}"), 8080, L4Protocol.Tcp);

    private static LoadBalancerService Svc(int frontend, params int[] backends) =>
        new(Fe(frontend), $"default/svc{frontend}:http", ServiceFlags.ClusterIp, [.. backends.Select(B).Order()]);

    private static LoadBalancerPlan Plan(IEnumerable<LoadBalancerService> upserts, IEnumerable<Frontend>? deletes = null) =>
        new([.. upserts.OrderBy(s => s.Frontend)], [.. (deletes ?? []).Order()]);

    /// <summary>300 frontends x 3 backends: 900 backends and slots, 300 masters, each step many chunks of 40.</summary>
    private static IEnumerable<LoadBalancerService> Many(int count = 300) =>
        Enumerable.Range(0, count).Select(i => Svc(i, 3 * i, 3 * i + 1, 3 * i + 2));

    private static (ConcurrentCallMaps Maps, BpfMapWriter Writer) ParallelWriter()
    {
        var maps = new ConcurrentCallMaps(new FakeLoadBalancerMaps(serviceCapacity: 8192, backendCapacity: 8192));
        return (maps, new BpfMapWriter(maps, NullLogger.Instance, parallelism: Tiny));
    }

    private static FakeLoadBalancerMaps WrittenOnOneThread(params LoadBalancerPlan[] plans)
    {
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 8192, backendCapacity: 8192);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        foreach (var plan in plans)
            writer.Apply(plan);
        return maps;
    }

    private static void AssertSameMaps(FakeLoadBalancerMaps expected, FakeLoadBalancerMaps actual)
    {
        Assert.Equal(expected.Services.OrderBy(e => e.Key.ToString()).Select(e => $"{e.Key}={e.Value.BackendId}/{e.Value.Count}"),
            actual.Services.OrderBy(e => e.Key.ToString()).Select(e => $"{e.Key}={e.Value.BackendId}/{e.Value.Count}"));
        Assert.Equal(expected.Backends.OrderBy(e => e.Key), actual.Backends.OrderBy(e => e.Key));
        Assert.Equal(expected.Names.OrderBy(e => e.Key), actual.Names.OrderBy(e => e.Key));
        Assert.Equal(expected.Refused.Keys.Order(), actual.Refused.Keys.Order());
    }

    [Fact]
    public void ALargeStepIsSplitIntoChunksOnSeveralThreadsAndEveryStepEndsBeforeTheNextBegins()
    {
        var (maps, writer) = ParallelWriter();

        var result = writer.Apply(Plan(Many()));

        Assert.True(result.AllApplied);
        AssertSameMaps(WrittenOnOneThread(Plan(Many())), maps.Inner);
        var kinds = maps.Calls.Select(c => c.Kind).ToList();
        string calls = string.Join(", ", maps.Calls.Select(c => $"{c.Kind} {c.Entries}"));
        Assert.True(kinds.LastIndexOf("backends") < kinds.IndexOf("slots"), calls);
        Assert.True(kinds.LastIndexOf("slots") < kinds.IndexOf("masters"), calls);
        Assert.True(kinds.IndexOf("names") < kinds.IndexOf("masters"), calls);
        Assert.True(kinds.IndexOf("counters") < kinds.IndexOf("masters"), calls);
        // 900 backends in ranges of 40: 23 calls. A service-map chunk closes at the end of the frontend that brings it to
        // 40 or more: 900 slots in 22 calls of up to 42, 300 masters in 8 of up to 40.
        Assert.Equal(23, kinds.Count(k => k == "backends"));
        Assert.Equal(22, kinds.Count(k => k == "slots"));
        Assert.Equal(8, kinds.Count(k => k == "masters"));
        Assert.All(maps.Calls.Where(c => c.Kind is "backends" or "masters"), c => Assert.True(c.Entries <= 40));
        Assert.All(maps.Calls.Where(c => c.Kind is "slots"), c => Assert.True(c.Entries <= 42));
        // Never more in flight than the degree (the calling thread's call included; 300 names do not go beside them).
        Assert.True(maps.MaxInFlight <= Tiny.Degree, $"{maps.MaxInFlight} calls in flight");
        // How many overlap is the scheduler's call; that chunks went to the pool is not (they never run inline).
        Assert.Contains(maps.Calls, c => c.Kind == "slots" && c.Thread != Environment.CurrentManagedThreadId);
        Assert.True(writer.VerifyApplied());
    }

    [Fact]
    public void APartialSyncStaysOnTheCallingThread()
    {
        var (maps, writer) = ParallelWriter();
        Assert.True(writer.Apply(Plan(Many())).AllApplied);
        maps.Calls.Clear();

        // One Service changes its backends and one goes: a few entries per step, each step one call from this thread.
        var result = writer.Apply(Plan([Svc(7, 21, 22, 5000), Svc(8, 24)], [Fe(9)]));

        Assert.True(result.AllApplied);
        Assert.NotEmpty(maps.Calls);
        Assert.All(maps.Calls, c => Assert.Equal(Environment.CurrentManagedThreadId, c.Thread));
        AssertSameMaps(WrittenOnOneThread(Plan(Many()), Plan([Svc(7, 21, 22, 5000), Svc(8, 24)], [Fe(9)])), maps.Inner);
    }

    /// <summary>
    /// Frontend 150's slots land in a middle chunk of the slot step, which the "kernel" refuses part-way while the
    /// chunks before and after it are in flight or done. The fallback writes frontend by frontend only once all have
    /// returned, rolls 150 back alone, and the maps end as a one-thread writer leaves them without it.
    /// </summary>
    [Theory]
    [InlineData(150)]
    [InlineData(0)]
    [InlineData(299)]
    public void WhenOneChunkFailsTheFallbackStartsAfterEveryChunkReturnedAndCostsOnlyTheBadFrontend(int bad)
    {
        var (maps, writer) = ParallelWriter();
        var badKey = Lb4ServiceKey.Create(Fe(bad).Address, 80, 6, 0);
        maps.Inner.RejectServiceEntry = (key, value) => key.WithSlot(0).Equals(badKey) && key.BackendSlot == 2;

        var result = writer.Apply(Plan(Many()));

        var refused = Assert.Single(result.Refused);
        Assert.Equal(Fe(bad), refused.Frontend);
        Assert.Equal(RefusalReason.WriteFailed, refused.Reason);
        Assert.Equal(0, maps.SmallCallBesideChunk);
        Assert.True(maps.Calls.Count(c => c.Kind == "slots" && c.Entries > 1) >= 2, "the slot step was split");
        Assert.Null(maps.Inner.Reachable(Fe(bad).Address, 80));
        var expected = WrittenOnOneThread(Plan(Many().Where(s => s.Frontend != Fe(bad))));
        Assert.Equal(expected.Services.Count, maps.Inner.Services.Count);
        Assert.Equal(expected.Backends.Count, maps.Inner.Backends.Count);
        foreach (var s in Many().Where(s => s.Frontend != Fe(bad)))
            Assert.Equal(s.Backends.Select(b => $"{b.Address}:{b.Port}").ToHashSet(), maps.Inner.Reachable(s.Frontend.Address, 80));
        Assert.True(writer.VerifyApplied());

        // Once the kernel takes it, it is written like the rest (its backends under new ids).
        maps.Inner.RejectServiceEntry = null;
        Assert.True(writer.Apply(Plan(Many())).AllApplied);
        foreach (var s in Many())
            Assert.Equal(s.Backends.Select(b => $"{b.Address}:{b.Port}").ToHashSet(), maps.Inner.Reachable(s.Frontend.Address, 80));
        Assert.Empty(maps.Inner.Refused);
        Assert.True(writer.VerifyApplied());
    }

    [Fact]
    public void WhenTheBackendStepFailsNothingOfTheSlotsOrMastersIsWrittenInBatchesAndTheFallbackWritesEveryFrontend()
    {
        var (maps, writer) = ParallelWriter();
        maps.Inner.FailBatchAtEntry = 10; // the first multi-entry call that gets the lock: a backend chunk

        var result = writer.Apply(Plan(Many()));

        Assert.True(result.AllApplied);
        Assert.Equal(0, maps.SmallCallBesideChunk);
        Assert.DoesNotContain(maps.Calls, c => c.Kind is "slots" or "masters" && c.Entries > 3);
        AssertSameMaps(WrittenOnOneThread(Plan(Many())), maps.Inner);
        Assert.True(writer.VerifyApplied());
    }

    [Fact]
    public void DegreeIsTheCoresCappedAndOneThreadTurnsItOff()
    {
        Assert.Same(WriteParallelism.Off, WriteParallelism.For(1));
        Assert.False(WriteParallelism.For(0).IsParallel);
        Assert.Equal(2, WriteParallelism.For(2).Degree);
        Assert.Equal(WriteParallelism.MaxDegree, WriteParallelism.For(64).Degree);
        Assert.Equal(Math.Min(Environment.ProcessorCount, WriteParallelism.MaxDegree), WriteParallelism.Auto.IsParallel ? WriteParallelism.Auto.Degree : 1);
    }
}
