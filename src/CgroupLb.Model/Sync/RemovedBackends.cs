using System.Collections.Immutable;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Sync;

/// <summary>
/// Which backends a sync took away from which frontends: what the maps held for each frontend of the plan before,
/// minus what they hold after. A deleted frontend loses all its backends; a frontend whose write was refused is not
/// in the plan given, so it loses none. Cost is proportional to the plan, not to every Service, and a
/// frontend new to the maps costs one lookup (a first sync finds nothing to remove without allocating).
/// </summary>
public static class RemovedBackends
{
    /// <summary>
    /// For a plan applied whole (every upsert written, every delete done), which says what the maps hold after: the
    /// syncer calls it with the plan less its refused frontends, before it updates its applied view in place.
    /// </summary>
    public static ImmutableArray<RemovedBackend> FindApplied(
        IReadOnlyDictionary<Frontend, LoadBalancerService> before,
        LoadBalancerPlan applied)
    {
        if (before.Count == 0)
            return [];
        ImmutableArray<RemovedBackend>.Builder? removed = null;
        // Each frontend once, the first time the plan names it (upserts before deletes); only frontends that had
        // backends are remembered.
        HashSet<Frontend>? seen = null;
        foreach (LoadBalancerService service in applied.Upserts)
        {
            if (HadBackends(before, service.Frontend, ref seen) is { } old)
                Collect(service.Frontend, old, service.Backends, ref removed);
        }
        foreach (Frontend frontend in applied.Deletes)
        {
            if (HadBackends(before, frontend, ref seen) is { } old)
                Collect(frontend, old, [], ref removed);
        }
        return removed?.ToImmutable() ?? [];
    }

    private static LoadBalancerService? HadBackends(IReadOnlyDictionary<Frontend, LoadBalancerService> before, Frontend frontend, ref HashSet<Frontend>? seen)
    {
        if (!before.TryGetValue(frontend, out LoadBalancerService? old) || old.Backends.IsEmpty)
            return null;
        return (seen ??= []).Add(frontend) ? old : null;
    }

    private static void Collect(Frontend frontend, LoadBalancerService old, ImmutableArray<Backend> kept, ref ImmutableArray<RemovedBackend>.Builder? removed)
    {
        HashSet<Backend>? keptSet = kept.Length > 8 ? [.. kept] : null;
        foreach (Backend backend in old.Backends)
        {
            bool stays = keptSet?.Contains(backend) ?? kept.Contains(backend);
            if (!stays)
                (removed ??= ImmutableArray.CreateBuilder<RemovedBackend>()).Add(new RemovedBackend(frontend, backend));
        }
    }
}
