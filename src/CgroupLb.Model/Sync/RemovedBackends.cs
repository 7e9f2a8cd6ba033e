using System.Collections.Immutable;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Sync;

/// <summary>
/// Which backends a sync took away from which frontends: what the maps held for each frontend of the plan before,
/// minus what they hold after. A deleted frontend loses all its backends; a frontend whose write was not applied
/// (it is unchanged in <c>after</c>) loses none. Cost is proportional to the plan, not to every Service.
/// </summary>
public static class RemovedBackends
{
    public static ImmutableArray<RemovedBackend> Find(
        IReadOnlyDictionary<Frontend, LoadBalancerService> before,
        IReadOnlyDictionary<Frontend, LoadBalancerService> after,
        LoadBalancerPlan plan)
    {
        var removed = ImmutableArray.CreateBuilder<RemovedBackend>();
        foreach (Frontend frontend in plan.Upserts.Select(s => s.Frontend).Concat(plan.Deletes).Distinct())
        {
            if (!before.TryGetValue(frontend, out LoadBalancerService? old) || old.Backends.IsEmpty)
                continue;
            ImmutableArray<Backend> kept = after.TryGetValue(frontend, out LoadBalancerService? now) ? now.Backends : [];
            var keptSet = kept.Length > 8 ? kept.ToHashSet() : null;
            foreach (Backend backend in old.Backends)
            {
                bool stays = keptSet?.Contains(backend) ?? kept.Contains(backend);
                if (!stays)
                    removed.Add(new RemovedBackend(frontend, backend));
            }
        }
        return removed.ToImmutable();
    }
}
