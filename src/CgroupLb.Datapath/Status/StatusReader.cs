using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;
using CgroupLb.Interop;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Status;

/// <summary>Reads the pinned maps into a <see cref="DatapathStatus"/>, sorted by frontend.</summary>
internal static class StatusReader
{
    public static DatapathStatus Read(ILoadBalancerMaps maps, BpfMapHandle stats, BpfMapHandle reverseSockets)
    {
        var entries = maps.ReadServiceEntries();
        var backendList = maps.ReadBackends();
        var backends = backendList.ToDictionary(kv => kv.Key, kv => kv.Value);
        var slots = entries.Where(e => e.Key.BackendSlot != 0).ToDictionary(e => e.Key, e => e.Value);

        var frontends = new List<FrontendStatus>();
        foreach (var (key, master) in entries.Where(e => e.Key.BackendSlot == 0))
        {
            var list = new List<BackendStatus>(master.Count);
            for (ushort slot = 1; slot <= master.Count; slot++)
            {
                if (slots.TryGetValue(key.WithSlot(slot), out var value) && backends.TryGetValue(value.BackendId, out var b))
                    list.Add(new BackendStatus(slot, value.BackendId, new Backend(b.Address, b.Port, (L4Protocol)b.Proto)));
                else
                    list.Add(new BackendStatus(slot, slots.TryGetValue(key.WithSlot(slot), out var v) ? v.BackendId : 0, null));
            }
            frontends.Add(new FrontendStatus(
                new Frontend(key.Address, key.Port, (L4Protocol)key.Proto),
                master.ServiceId,
                maps.ReadName(master.ServiceId) ?? "",
                master.ServiceFlags,
                list,
                ReadCounters(stats, master.ServiceId)));
        }
        frontends.Sort((a, b) => a.Frontend.CompareTo(b.Frontend));

        var usage = new List<MapUsage>
        {
            new(MapNames.Services, entries.Count, maps.ServiceEntryCapacity),
            new(MapNames.Backends, backendList.Count, maps.BackendCapacity),
            new(MapNames.ReverseSockets, KernelLoadBalancerMaps.CountEntries<Lb4ReverseSkKey, Lb4ReverseSkValue>(reverseSockets), reverseSockets.Info.MaxEntries),
        };
        return new DatapathStatus(frontends, usage);
    }

    public static ServiceCounters ReadCounters(BpfMapHandle stats, uint serviceId)
    {
        var perCpu = new LbServiceStats[BpfMapHandle.PossibleCpus];
        if (!stats.TryLookupPerCpu(in serviceId, perCpu.AsSpan()))
            return new ServiceCounters(0, 0, 0);
        ulong translated = 0, refused = 0, reverse = 0;
        foreach (var s in perCpu)
        {
            translated += s.Translated;
            refused += s.RefusedNoBackend;
            reverse += s.ReverseTranslated;
        }
        return new ServiceCounters(translated, refused, reverse);
    }
}
