using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Writing;

/// <summary>What the writer knows one frontend holds in the maps: its id, its slots' backend ids in order, and its model.</summary>
internal sealed record AppliedFrontend(uint ServiceId, uint[] SlotBackendIds, LoadBalancerService Service)
{
    /// <summary>Map entries this frontend occupies in lb4_services: the master plus one per slot.</summary>
    public int EntryCount => 1 + SlotBackendIds.Length;
}
