using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Handles to the pinned maps, each checked against its C# mirror: a map whose key or value size differs from the
/// struct this build writes is refused with the map's name, never written with the wrong layout.
/// Owns the handles until <see cref="Dispose"/> or until a <see cref="Writing.KernelLoadBalancerMaps"/> takes them.
/// </summary>
internal sealed class PinnedMaps : IDisposable
{
    public required BpfMapHandle Services { get; init; }
    public required BpfMapHandle Backends { get; init; }
    public required BpfMapHandle ReverseSockets { get; init; }
    public required BpfMapHandle Stats { get; init; }
    public required BpfMapHandle Names { get; init; }
    public required BpfMapHandle FrontendFilter { get; init; }
    public required BpfMapHandle Refused { get; init; }
    public required BpfMapHandle Services6 { get; init; }
    public required BpfMapHandle Backends6 { get; init; }
    public required BpfMapHandle ReverseSockets6 { get; init; }
    public required BpfMapHandle Refused6 { get; init; }
    public required BpfMapHandle NodeAddresses { get; init; }
    public required BpfMapHandle NodeAddresses6 { get; init; }

    /// <summary>lb6_fe_filter; null where an older agent pinned the maps without it (its programs read none).</summary>
    public BpfMapHandle? FrontendFilter6 { get; init; }

    /// <summary>lb_affinity; null where an older agent pinned the maps without it (status then leaves it out).</summary>
    public BpfMapHandle? Affinity { get; init; }

    /// <summary>lb_svc_gen; null only in a read-only view of maps an older agent pinned (its programs reuse nothing).</summary>
    public BpfMapHandle? ServiceGenerations { get; init; }

    public static bool AllPresent(DatapathOptions options) =>
        MapNames.All.All(name => File.Exists(options.MapPinPath(name)));

    public static PinnedMaps Open(DatapathOptions options)
    {
        var opened = new List<BpfMapHandle>();
        try
        {
            BpfMapHandle Open<TKey, TValue>(string name) where TKey : unmanaged where TValue : unmanaged
            {
                string path = options.MapPinPath(name);
                if (!File.Exists(path))
                    throw new DatapathException("adopt", $"map {name} is not pinned at {path}; start the agent (cgroup-lb run) to create it");
                var handle = BpfMapHandle.OpenPinned(path);
                opened.Add(handle);
                CheckLayout(name, handle.Info.KeySize, handle.Info.ValueSize, Marshal.SizeOf<TKey>(), Marshal.SizeOf<TValue>());
                return handle;
            }

            var maps = new PinnedMaps
            {
                Services = Open<Lb4ServiceKey, LbServiceValue>(MapNames.Services),
                Backends = Open<uint, Lb4Backend>(MapNames.Backends),
                ReverseSockets = Open<Lb4ReverseSkKey, Lb4ReverseSkValue>(MapNames.ReverseSockets),
                Stats = Open<uint, LbServiceStats>(MapNames.ServiceStats),
                Names = Open<uint, LbServiceName>(MapNames.ServiceNames),
                FrontendFilter = Open<uint, ulong>(MapNames.FrontendFilter),
                FrontendFilter6 = File.Exists(options.MapPinPath(MapNames.FrontendFilter6)) ? Open<uint, ulong>(MapNames.FrontendFilter6) : null,
                Refused = Open<Lb4ServiceKey, Lb4Refused>(MapNames.Refused),
                Services6 = Open<Lb6ServiceKey, Lb6ServiceValue>(MapNames.Services6),
                Backends6 = Open<uint, Lb6Backend>(MapNames.Backends6),
                ReverseSockets6 = Open<Lb6ReverseSkKey, Lb6ReverseSkValue>(MapNames.ReverseSockets6),
                Refused6 = Open<Lb6ServiceKey, Lb4Refused>(MapNames.Refused6),
                Affinity = File.Exists(options.MapPinPath(MapNames.Affinity)) ? Open<LbAffinityKey, LbAffinityValue>(MapNames.Affinity) : null,
                NodeAddresses = Open<uint, LbNodeAddress>(MapNames.NodeAddresses),
                NodeAddresses6 = Open<Lb6Address, LbNodeAddress>(MapNames.NodeAddresses6),
                ServiceGenerations = File.Exists(options.MapPinPath(MapNames.ServiceGenerations)) ? Open<uint, uint>(MapNames.ServiceGenerations) : null,
            };
            opened.Clear();
            return maps;
        }
        finally
        {
            foreach (var handle in opened)
                handle.Dispose();
        }
    }

    /// <summary>
    /// Before a load reuses the map pinned under <paramref name="map"/>'s name: the same type, flags and capacity as
    /// this build declares (key and value sizes are checked by <see cref="CheckLayout"/>). libbpf would refuse too,
    /// but with a bare errno; this names the map and the difference.
    /// </summary>
    public static void CheckCompatible(DatapathOptions options, BpfMap map)
    {
        string path = options.MapPinPath(map.Name);
        if (!File.Exists(path))
            return;
        using var pinned = BpfMapHandle.OpenPinned(path);
        var info = pinned.Info;
        CheckLayout(map.Name, info.KeySize, info.ValueSize, (int)map.KeySize, (int)map.ValueSize);
        var differences = new List<string>();
        if (info.Type != map.Type) differences.Add($"type {info.Type} (this build: {map.Type})");
        if (info.MapFlags != map.MapFlags) differences.Add($"flags 0x{info.MapFlags:x} (this build: 0x{map.MapFlags:x})");
        if (info.MaxEntries != map.MaxEntries) differences.Add($"max_entries {info.MaxEntries} (this build: {map.MaxEntries})");
        if (differences.Count > 0)
            throw new DatapathException("adopt",
                $"map {map.Name} pinned at {path} has {string.Join(", ", differences)}: it comes from another version with the same map name; " +
                "run 'cgroup-lb detach' and start again (a changed map needs a new name, see lb_abi.h; --bpf-lb-map-max sizes the service and backend maps, --preallocate-bpf-maps sets their flags)");
    }

    public static void CheckLayout(string map, uint keySize, uint valueSize, int expectedKey, int expectedValue)
    {
        if (keySize != expectedKey || valueSize != expectedValue)
            throw new DatapathException("load",
                $"map {map} has key/value sizes {keySize}/{valueSize} but this agent writes {expectedKey}/{expectedValue}: " +
                "the pinned map or BPF object comes from another version; run 'cgroup-lb detach' and start again");
    }

    public void Dispose()
    {
        Services.Dispose();
        Backends.Dispose();
        ReverseSockets.Dispose();
        Stats.Dispose();
        Names.Dispose();
        FrontendFilter.Dispose();
        FrontendFilter6?.Dispose();
        Refused.Dispose();
        Services6.Dispose();
        Backends6.Dispose();
        ReverseSockets6.Dispose();
        Refused6.Dispose();
        Affinity?.Dispose();
        ServiceGenerations?.Dispose();
        NodeAddresses.Dispose();
        NodeAddresses6.Dispose();
    }
}
