using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// What the writer knows one frontend holds in the maps: its service id (0 when the id found in the maps was unusable),
/// its slots' backend ids in order (0 for a hole), the service it was asked for, and how many lb4_services entries it
/// occupies. <see cref="Damaged"/>: decoded with problems, so the next upsert rewrites it whole.
/// </summary>
internal sealed record AppliedFrontend(uint ServiceId, uint[] SlotBackendIds, LoadBalancerService Service, int Entries, bool Damaged = false)
{
    public bool HasServiceId => ServiceId != 0;
}
