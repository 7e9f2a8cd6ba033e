using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Sync;

/// <summary>A backend that left a frontend in a sync: sockets the LB connected from the one to the other now point nowhere useful.</summary>
public readonly record struct RemovedBackend(Frontend Frontend, Backend Backend)
{
    public override string ToString() => $"{Backend} from {Frontend}";
}
