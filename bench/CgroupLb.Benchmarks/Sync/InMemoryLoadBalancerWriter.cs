using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Benchmarks.Sync;

/// <summary>
/// A writer whose "maps" are a dictionary: applying a plan costs one dictionary write per frontend, so what a
/// benchmark through it measures is the model's share of an event's way to the kernel.
/// </summary>
internal sealed class InMemoryLoadBalancerWriter : ILoadBalancerWriter
{
    private readonly Dictionary<Frontend, LoadBalancerService> maps = [];

    public int Count => maps.Count;

    public IReadOnlyDictionary<Frontend, LoadBalancerService> ReadApplied() => new Dictionary<Frontend, LoadBalancerService>(maps);

    public IReadOnlyCollection<Frontend> ReadRefused() => [];

    public ApplyResult Apply(LoadBalancerPlan plan)
    {
        foreach (Frontend frontend in plan.Deletes) maps.Remove(frontend);
        foreach (LoadBalancerService service in plan.Upserts) maps[service.Frontend] = service;
        return ApplyResult.Applied;
    }

    public LoadBalancerService this[Frontend frontend] => maps[frontend];
}
