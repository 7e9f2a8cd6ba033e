using System.Collections.Immutable;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Tests.Support;

/// <summary>
/// Stands in for the BPF map writer: holds the "maps" in a dictionary, records every plan it applies, and can be
/// told to fail part-way through a plan the way a real map update fails (earlier upserts stay written).
/// </summary>
internal sealed class FakeLoadBalancerWriter : ILoadBalancerWriter
{
    // Locked throughout: tests poll the maps while RunAsync writes them from another thread.
    private readonly object gate = new();
    private readonly Dictionary<Frontend, LoadBalancerService> maps = new();
    // What this writer wrote or read back last: what VerifyApplied compares the "maps" with, as the real writer does.
    private readonly Dictionary<Frontend, LoadBalancerService> written = new();
    private int verifyCalls;
    private readonly List<LoadBalancerPlan> appliedPlans = [];
    private int readAppliedCalls;

    public IReadOnlyList<LoadBalancerPlan> AppliedPlans
    {
        get
        {
            lock (gate) return appliedPlans.ToList();
        }
    }

    public int ReadAppliedCalls
    {
        get
        {
            lock (gate) return readAppliedCalls;
        }
    }

    public int VerifyCalls
    {
        get
        {
            lock (gate) return verifyCalls;
        }
    }

    /// <summary>Frontends every Apply refuses (reason <see cref="RefusalReason.ServiceMapFull"/>), leaving them as they are.</summary>
    public HashSet<Frontend> Refuse { get; } = [];

    private readonly HashSet<Frontend> refusedRecords = [];

    /// <summary>How many further Apply calls fail.</summary>
    public int FailApplies { get; set; }

    /// <summary>When failing, how many upserts are written before the failure.</summary>
    public int UpsertsBeforeFailure { get; set; }

    public IReadOnlyDictionary<Frontend, LoadBalancerService> Maps
    {
        get
        {
            lock (gate) return maps.ToImmutableDictionary();
        }
    }

    public void Seed(params LoadBalancerService[] services)
    {
        lock (gate)
        {
            foreach (var s in services) maps[s.Frontend] = s;
        }
    }

    /// <summary>Changes the maps behind the syncer's back, like another process or a crashed earlier run would.</summary>
    public void Corrupt(Frontend frontend)
    {
        lock (gate) maps.Remove(frontend);
    }

    public IReadOnlyDictionary<Frontend, LoadBalancerService> ReadApplied()
    {
        lock (gate)
        {
            readAppliedCalls++;
            written.Clear();
            foreach (var (frontend, service) in maps) written[frontend] = service;
            return maps.ToImmutableDictionary();
        }
    }

    public IReadOnlyCollection<Frontend> ReadRefused()
    {
        lock (gate) return refusedRecords.ToList();
    }

    public bool VerifyApplied()
    {
        lock (gate)
        {
            verifyCalls++;
            return maps.Count == written.Count && maps.All(kv => written.TryGetValue(kv.Key, out var w) && w.Equals(kv.Value));
        }
    }

    public ApplyResult Apply(LoadBalancerPlan plan)
    {
        lock (gate)
        {
            try
            {
                return ApplyLocked(plan);
            }
            finally
            {
                // Failed or not, the writer knows what it wrote (a real one rolls back or reloads).
                foreach (var f in plan.Deletes) written.Remove(f);
                foreach (var s in plan.Upserts)
                {
                    if (maps.TryGetValue(s.Frontend, out var now) && now.Equals(s)) written[s.Frontend] = now;
                }
            }
        }
    }

    private ApplyResult ApplyLocked(LoadBalancerPlan plan)
    {
        if (FailApplies > 0)
        {
            FailApplies--;
            foreach (var s in plan.Upserts.Take(UpsertsBeforeFailure)) maps[s.Frontend] = s;
            Frontend? failed = plan.Upserts.Length > UpsertsBeforeFailure ? plan.Upserts[UpsertsBeforeFailure].Frontend : null;
            throw new MapWriteException(failed, "injected failure");
        }
        appliedPlans.Add(plan);
        var refused = ImmutableArray.CreateBuilder<RefusedFrontend>();
        foreach (var f in plan.Deletes)
        {
            maps.Remove(f);
            refusedRecords.Remove(f);
        }
        foreach (var s in plan.Upserts)
        {
            if (Refuse.Contains(s.Frontend))
            {
                refused.Add(new RefusedFrontend(s, RefusalReason.ServiceMapFull, "injected refusal"));
                refusedRecords.Add(s.Frontend);
                continue;
            }
            maps[s.Frontend] = s;
            refusedRecords.Remove(s.Frontend);
        }
        return refused.Count == 0 ? ApplyResult.Applied : new ApplyResult(refused.ToImmutable());
    }
}
