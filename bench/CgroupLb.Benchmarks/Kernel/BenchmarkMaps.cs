using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Writing;
using CgroupLb.Interop;

namespace CgroupLb.Benchmarks.Kernel;

/// <summary>
/// The load-balancer maps of both families, created empty with the sizes and flags of bpf/lib/lb_abi.h (no BPF object, no
/// programs, no cgroup), pinned under /sys/fs/bpf/cglb-bench-&lt;pid&gt; and opened back through
/// <see cref="PinnedMaps.Open"/> exactly as the agent adopts them, layout checks included. Dispose closes the handles
/// and removes the pin directory, which frees the maps.
/// </summary>
internal sealed class BenchmarkMaps : IDisposable
{
    private const string DirectoryPrefix = "cglb-bench-";
    private const uint NoPrealloc = 1; // BPF_F_NO_PREALLOC
    private const uint Mmapable = 1 << 10; // BPF_F_MMAPABLE

    private readonly PinnedMaps pinned;
    private readonly EventHandler removeOnExit;

    private BenchmarkMaps(string directory, PinnedMaps pinned)
    {
        Directory = directory;
        this.pinned = pinned;
        Maps = new KernelLoadBalancerMaps(pinned);
        // A run stopped with Ctrl-C or SIGTERM skips GlobalCleanup; this still removes the pins.
        removeOnExit = (_, _) => RemoveDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += removeOnExit;
    }

    public string Directory { get; }

    /// <summary>Owns every map handle.</summary>
    public KernelLoadBalancerMaps Maps { get; }

    /// <summary>The raw lb4_services_v2 handle, for benchmarks of the syscalls themselves (owned by <see cref="Maps"/>).</summary>
    public BpfMapHandle ServiceHandle => pinned.Services;

    /// <summary>The raw lb4_backends_v2 handle, for benchmarks of the syscalls themselves (owned by <see cref="Maps"/>).</summary>
    public BpfMapHandle BackendHandle => pinned.Backends;

    /// <summary>The raw lb6_backends_v2 handle (owned by <see cref="Maps"/>).</summary>
    public BpfMapHandle BackendHandle6 => pinned.Backends6;

    /// <summary>The maps as lb_abi.h declares them: name, type, key size, value size, max entries, flags.</summary>
    private static (string Name, BpfMapType Type, uint Key, uint Value, uint MaxEntries, uint Flags)[] Specs(uint services, uint backends, uint lbFlags) =>
    [
        (MapNames.Services, BpfMapType.Hash, 12, 24, services, lbFlags),
        (MapNames.Backends, BpfMapType.Array, 4, 8, backends, Mmapable),
        (MapNames.ReverseSockets, BpfMapType.LruHash, 16, 12, 262144, 0),
        (MapNames.ServiceStats, BpfMapType.PercpuArray, 4, 24, 65536, 0),
        (MapNames.ServiceNames, BpfMapType.Hash, 4, 256, 65536, lbFlags),
        (MapNames.FrontendFilter, BpfMapType.Array, 4, 8, 16385, 0),
        (MapNames.Refused, BpfMapType.Hash, 12, 400, 65536, NoPrealloc),
        (MapNames.Services6, BpfMapType.Hash, 24, 36, services, NoPrealloc),
        (MapNames.Backends6, BpfMapType.Array, 4, 20, backends, Mmapable),
        (MapNames.ReverseSockets6, BpfMapType.LruHash, 32, 24, 262144, 0),
        (MapNames.Refused6, BpfMapType.Hash, 24, 400, 65536, NoPrealloc),
        (MapNames.NodeAddresses, BpfMapType.Hash, 4, 4, 16384, NoPrealloc),
        (MapNames.NodeAddresses6, BpfMapType.Hash, 16, 4, 16384, NoPrealloc),
        (MapNames.FrontendFilter6, BpfMapType.Array, 4, 8, 16385, 0),
    ];

    /// <summary>
    /// The maps with lb_abi.h's sizes, or larger service and backend maps (an operator's choice for clusters beyond
    /// the defaults: 50k Services x 10 endpoints needs 550k service entries and 500k backends). <paramref name="preallocate"/>
    /// creates lb4_services_v2 and lb_svc_names without BPF_F_NO_PREALLOC (the agent's --preallocate-bpf-maps also
    /// preallocates lb6_services, which these benchmarks do not write). The backend maps are arrays either way.
    /// </summary>
    public static BenchmarkMaps Create(uint serviceEntries = 262144, uint backendEntries = 131072, bool preallocate = false)
    {
        RemoveStale();
        string directory = Path.Combine(KernelRequirement.BpffsRoot, $"{DirectoryPrefix}{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(directory);
        try
        {
            foreach (var spec in Specs(serviceEntries, backendEntries, preallocate ? 0 : NoPrealloc))
            {
                // The pin holds the map; this creation fd is only needed until then.
                using BpfMapHandle map = BpfMapHandle.Create(spec.Type, spec.Name, spec.Key, spec.Value, spec.MaxEntries, spec.Flags);
                map.Pin(Path.Combine(directory, spec.Name));
            }
            PinnedMaps pinned = PinnedMaps.Open(new DatapathOptions(CgroupPath: "", BpffsPath: directory));
            return new BenchmarkMaps(directory, pinned);
        }
        catch
        {
            RemoveDirectory(directory);
            throw;
        }
    }

    /// <summary>
    /// Removes pin directories of benchmark processes that no longer exist (killed before their cleanup ran), so
    /// maps never pile up across runs. Directories of live processes are left alone.
    /// </summary>
    public static void RemoveStale()
    {
        if (!System.IO.Directory.Exists(KernelRequirement.BpffsRoot)) return;
        foreach (string directory in System.IO.Directory.EnumerateDirectories(KernelRequirement.BpffsRoot, DirectoryPrefix + "*"))
        {
            string suffix = Path.GetFileName(directory)[DirectoryPrefix.Length..];
            if (int.TryParse(suffix, out int pid) && pid != Environment.ProcessId && !System.IO.Directory.Exists($"/proc/{pid}"))
                RemoveDirectory(directory);
        }
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= removeOnExit;
        Maps.Dispose();
        RemoveDirectory(Directory);
    }

    private static void RemoveDirectory(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) return;
        // bpffs has no recursive unlink of its own; unlinking a pin drops the kernel's last reference to an unused map.
        foreach (string pin in System.IO.Directory.EnumerateFileSystemEntries(directory))
            File.Delete(pin);
        System.IO.Directory.Delete(directory);
    }
}
