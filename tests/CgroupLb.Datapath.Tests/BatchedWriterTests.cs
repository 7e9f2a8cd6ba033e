using System.Collections.Immutable;
using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// The writer at plan scale: a few batches per step across every frontend of a plan, the ordering promise for the plan as
/// a whole, the fallback to per-frontend writes when a batch fails part-way, and one frontend refused alone.
/// </summary>
public class BatchedWriterTests
{
    private static Frontend Fe(int n) => new(IPAddress.Parse($"198.51.100.{n}"), 80, L4Protocol.Tcp);
    private static Backend B(int n) => new(IPAddress.Parse($"198.18.{n / 250}.{n % 250 + 1}"), 8080, L4Protocol.Tcp);
    private static string S(int n) => $"{B(n).Address}:8080";

    private static LoadBalancerService Svc(int frontend, params int[] backends) =>
        new(Fe(frontend), $"default/svc{frontend}:http", ServiceFlags.ClusterIp, [.. backends.Select(B).Order()]);

    private static LoadBalancerPlan Plan(IEnumerable<LoadBalancerService> upserts, IEnumerable<Frontend>? deletes = null) =>
        new([.. upserts.OrderBy(s => s.Frontend)], [.. (deletes ?? []).Order()]);

    [Fact]
    public void APlanOfManyNewFrontendsIsAHandfulOfBatchesNotCallsPerFrontend()
    {
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 4096, backendCapacity: 4096);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);

        var result = writer.Apply(Plan(Enumerable.Range(1, 200).Select(i => Svc(i, 3 * i, 3 * i + 1, 3 * i + 2))));

        Assert.True(result.AllApplied);
        Assert.Equal(200 * 4, maps.Services.Count);
        Assert.Equal(600, maps.Backends.Count);
        // backends, counters, names, slots, masters: five calls for 200 frontends.
        Assert.Equal(5, maps.Mutations);
    }

    [Fact]
    public void AStepLargerThanOneBatchIsWrittenInSeveralBatchesEachBeforeTheNextStep()
    {
        // 4000 x 10: 40000 slots, more than one batch of service entries; the masters follow all of them.
        static Frontend Port(int i) => new(IPAddress.Parse("198.51.100.1"), (ushort)(1000 + i), L4Protocol.Tcp);
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 65536, backendCapacity: 65536);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);

        var result = writer.Apply(Plan(Enumerable.Range(0, 4000).Select(i =>
            new LoadBalancerService(Port(i), $"default/big{i}:http", ServiceFlags.ClusterIp, [.. Enumerable.Range(10 * i, 10).Select(B).Order()]))));

        Assert.True(result.AllApplied);
        Assert.True(maps.Log.FindLastIndex(l => l.StartsWith("slot ")) < maps.Log.FindIndex(l => l.StartsWith("master ")));
        Assert.Equal(4000 * 11, maps.Services.Count);
        Assert.Equal(40000, maps.Backends.Count);
        // backends, counters, names, slots in two batches, masters.
        Assert.Equal(6, maps.Mutations);
        Assert.Equal(Enumerable.Range(39990, 10).Select(S).ToHashSet(), maps.Reachable(Port(3999).Address, 4999));
    }

    [Fact]
    public void AfterAPlanLargeEnoughToReleaseItsBuffersTheNextPlansAreWrittenAsUsual()
    {
        // 2000 x 10: 22000 service entries, more than the writer keeps its plan buffers for.
        static Frontend Port(int i) => new(IPAddress.Parse("198.51.100.1"), (ushort)(1000 + i), L4Protocol.Tcp);
        static LoadBalancerService Big(int i, int first) =>
            new(Port(i), $"default/big{i}:http", ServiceFlags.ClusterIp, [.. Enumerable.Range(first, 10).Select(B).Order()]);
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 32768, backendCapacity: 32768);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        Assert.True(writer.Apply(Plan(Enumerable.Range(0, 2000).Select(i => Big(i, 10 * i)))).AllApplied);

        Assert.True(writer.Apply(Plan([Big(0, 30000)], [Port(1)])).AllApplied);

        Assert.Equal(1999 * 11, maps.Services.Count);
        Assert.Equal(1999 * 10, maps.Backends.Count);
        Assert.Equal(Enumerable.Range(30000, 10).Select(S).ToHashSet(), maps.Reachable(Port(0).Address, 1000));
        Assert.Null(maps.Reachable(Port(1).Address, 1001));
        Assert.Equal(Enumerable.Range(20, 10).Select(S).ToHashSet(), maps.Reachable(Port(2).Address, 1002));
        Assert.True(writer.Apply(Plan(Enumerable.Range(0, 2000).Where(i => i != 1).Select(i => Big(i, 10 * i)))).AllApplied);
        Assert.Equal(Enumerable.Range(0, 10).Select(S).ToHashSet(), maps.Reachable(Port(0).Address, 1000));
    }

    [Fact]
    public void EveryStepFinishesForAllFrontendsBeforeTheNextStarts()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Plan([Svc(1, 1, 2, 3), Svc(2, 4, 5), Svc(3, 6)]));
        maps.Log.Clear();

        // 1 shrinks, 2 replaces a backend and grows, 3 is deleted, 4 is new.
        writer.Apply(Plan([Svc(1, 1), Svc(2, 4, 7, 8), Svc(4, 9)], [Fe(3)]));

        int Last(string prefix) => maps.Log.FindLastIndex(l => l.StartsWith(prefix, StringComparison.Ordinal));
        int First(string prefix) => maps.Log.FindIndex(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(Last("backend+") < First("slot "), string.Join("\n", maps.Log));
        Assert.True(Last("slot ") < First("master "), string.Join("\n", maps.Log));
        Assert.True(Last("master ") < First("slot-"), string.Join("\n", maps.Log));
        Assert.True(First("master- 198.51.100.3") < maps.Log.FindIndex(l => l.StartsWith("slot- 198.51.100.3", StringComparison.Ordinal)));
        Assert.True(Last("slot-") < First("backend-"), string.Join("\n", maps.Log));
        Assert.Equal(new HashSet<string> { S(1) }, maps.Reachable(Fe(1).Address, 80));
        Assert.Equal(new HashSet<string> { S(4), S(7), S(8) }, maps.Reachable(Fe(2).Address, 80));
        Assert.Null(maps.Reachable(Fe(3).Address, 80));
        Assert.Equal(new HashSet<string> { S(9) }, maps.Reachable(Fe(4).Address, 80));
    }

    /// <summary>
    /// The data path's property for a whole plan: after every single entry written, every frontend reaches only
    /// backends of its old or its new set, never a hole; frontends that stay never disappear.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(12)]
    public void EveryIntermediateStateOfAPlanReachesOnlyOldOrNewBackends(int failBatchAt)
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        LoadBalancerService[] before = [Svc(1, 1, 2, 3, 4), Svc(2, 5), Svc(3, 6, 7), Svc(4, 1, 8), Svc(5, 9, 10)];
        LoadBalancerService[] after = [Svc(1, 2), Svc(2, 5, 11, 12, 13), Svc(3, 14, 15), Svc(4, 8, 6), Svc(6, 1, 16)];
        writer.Apply(Plan(before));
        var allowed = new Dictionary<int, HashSet<string>>();
        foreach (var s in before.Concat(after))
        {
            int n = s.Frontend.Address.GetAddressBytes()[3];
            allowed.TryAdd(n, []);
            allowed[n].UnionWith(s.Backends.Select(b => $"{b.Address}:{b.Port}"));
        }
        int checks = 0;
        maps.AfterEachMutation = () =>
        {
            checks++;
            foreach (var (n, set) in allowed)
            {
                var reach = maps.Reachable(Fe(n).Address, 80);
                if (reach is null)
                {
                    Assert.True(n is 5 or 6, $"frontend {n} disappeared mid-plan"); // 5 is removed, 6 is new
                    continue;
                }
                Assert.DoesNotContain("HOLE", reach);
                Assert.Subset(set, reach);
            }
        };
        maps.FailBatchAtEntry = failBatchAt;

        var result = writer.Apply(Plan(after, [Fe(5)]));

        Assert.True(result.AllApplied);
        Assert.True(checks > 10);
        foreach (var s in after)
            Assert.Equal(s.Backends.Select(b => $"{b.Address}:{b.Port}").ToHashSet(), maps.Reachable(s.Frontend.Address, 80));
        Assert.Null(maps.Reachable(Fe(5).Address, 80));
        Assert.Equal(after.SelectMany(s => s.Backends).Distinct().Count(), maps.Backends.Count);
    }

    [Fact]
    public void AFrontendTheKernelRefusesCostsOnlyItselfAfterTheBatchFallsBack()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Plan([Svc(1, 1), Svc(2, 2), Svc(3, 3)]));
        var bad = Lb4ServiceKey.Create(Fe(2).Address, 80, 6, 0);
        maps.RejectServiceEntry = (key, value) => key.WithSlot(0).Equals(bad) && key.BackendSlot != 0 && value.BackendId != 2;
        maps.AfterEachMutation = () => Assert.DoesNotContain("HOLE", maps.Reachable(Fe(2).Address, 80)!);

        var result = writer.Apply(Plan([Svc(1, 1, 11), Svc(2, 12, 13), Svc(3, 3, 14), Svc(4, 15)]));

        var refused = Assert.Single(result.Refused);
        Assert.Equal(Fe(2), refused.Frontend);
        Assert.Equal(RefusalReason.WriteFailed, refused.Reason);
        Assert.Equal(new HashSet<string> { S(1), S(11) }, maps.Reachable(Fe(1).Address, 80));
        Assert.Equal(new HashSet<string> { S(2) }, maps.Reachable(Fe(2).Address, 80)); // rolled back
        Assert.Equal(new HashSet<string> { S(3), S(14) }, maps.Reachable(Fe(3).Address, 80));
        Assert.Equal(new HashSet<string> { S(15) }, maps.Reachable(Fe(4).Address, 80));
        Assert.False(maps.Backends.Values.Any(b => b.Address.Equals(B(12).Address)), "the refused frontend's new backends were collected");
        var record = Assert.Single(maps.Refused);
        Assert.Equal((uint)LbRefusalReason.WriteFailed, record.Value.Reason);
        Assert.Equal("default/svc2:http", record.Value.NameText);

        // Once the kernel takes it, the same upsert is written and its record goes.
        maps.RejectServiceEntry = null;
        Assert.True(writer.Apply(Plan([Svc(2, 12, 13)])).AllApplied);
        Assert.Equal(new HashSet<string> { S(12), S(13) }, maps.Reachable(Fe(2).Address, 80));
        Assert.Empty(maps.Refused);
    }

    /// <summary>
    /// Plans are sorted by address, so a frontend that cannot fit used to stop every frontend after it. Now it is
    /// refused alone, with the limit named, and the frontends after it are written.
    /// </summary>
    [Theory]
    [InlineData("service_map_full")]
    [InlineData("backend_map_full")]
    public void AFrontendOverAMapLimitIsRefusedAndTheRestAreWritten(string limit)
    {
        var maps = limit == "service_map_full"
            ? new FakeLoadBalancerMaps(serviceCapacity: 12)
            : new FakeLoadBalancerMaps(backendCapacity: 6);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);

        var result = writer.Apply(Plan([Svc(1, 1), Svc(2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), Svc(3, 12), Svc(4, 13)]));

        var refused = Assert.Single(result.Refused);
        Assert.Equal(Fe(2), refused.Frontend);
        Assert.Equal(limit, refused.Reason.Label());
        Assert.Null(maps.Reachable(Fe(2).Address, 80));
        foreach (int n in new[] { 1, 3, 4 })
            Assert.Single(maps.Reachable(Fe(n).Address, 80)!);
        var record = Assert.Single(maps.Refused).Value;
        Assert.Equal(10u, record.Backends);
        Assert.Equal(limit == "service_map_full" ? 12u : 6u, record.Limit);
    }

    [Fact]
    public void ARefusedFrontendIsRecordedOnceAndItsRecordGoesWhenItIsDeleted()
    {
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 2);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        writer.Apply(Plan([Svc(1, 1, 2, 3)]));
        int mutations = maps.Mutations;
        writer.Apply(Plan([Svc(1, 1, 2, 3)]));
        Assert.Equal(mutations, maps.Mutations); // the same refusal again: no rewrite of its record
        Assert.Single(maps.Refused);
        Assert.Contains(Fe(1), writer.ReadRefused());

        Assert.True(writer.Apply(Plan([], [Fe(1)])).AllApplied);

        Assert.Empty(maps.Refused);
        Assert.Empty(writer.ReadRefused());
    }

    [Fact]
    public void SteadyStateUpsertsWriteNothing()
    {
        var maps = new FakeLoadBalancerMaps();
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        var plan = Plan(Enumerable.Range(1, 50).Select(i => Svc(i, i)));
        writer.Apply(plan);
        int mutations = maps.Mutations;
        Assert.True(writer.Apply(plan).AllApplied);
        Assert.Equal(mutations, maps.Mutations);
    }

    [Fact]
    public void AFrontendWithMoreBackendsThanSlotsGetsAStableSubsetFlaggedInLb4Refused()
    {
        var maps = new FakeLoadBalancerMaps(serviceCapacity: 8192, backendCapacity: 8192);
        var writer = new BpfMapWriter(maps, NullLogger.Instance);
        var big = Svc(1, [.. Enumerable.Range(1, 2000)]);

        Assert.True(writer.Apply(Plan([big])).AllApplied);

        var reach = maps.Reachable(Fe(1).Address, 80)!;
        Assert.Equal(LbLimits.MaxBackendSlots, reach.Count);
        Assert.DoesNotContain("HOLE", reach);
        var record = Assert.Single(maps.Refused).Value;
        Assert.Equal((uint)LbRefusalReason.Subset, record.Reason);
        Assert.Equal(2000u, record.Backends);

        // One more endpoint changes at most one member of the subset.
        Assert.True(writer.Apply(Plan([Svc(1, [.. Enumerable.Range(1, 2001)])])).AllApplied);
        var after = maps.Reachable(Fe(1).Address, 80)!;
        Assert.Equal(LbLimits.MaxBackendSlots, after.Count);
        Assert.True(reach.Except(after).Count() <= 1, $"{reach.Except(after).Count()} backends left the subset");

        // Back under the limit: every backend, and the flag goes.
        Assert.True(writer.Apply(Plan([Svc(1, [.. Enumerable.Range(1, 10)])])).AllApplied);
        Assert.Equal(10, maps.Reachable(Fe(1).Address, 80)!.Count);
        Assert.Empty(maps.Refused);
    }
}
