using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Where the data path lives: the cgroup v2 directory whose sockets it translates, and the bpffs directory holding its
/// pinned maps and links (what a restarted agent adopts). <see cref="ObjectPath"/> overrides the embedded BPF object.
/// </summary>
public sealed record DatapathOptions(string CgroupPath, string BpffsPath)
{
    public const string DefaultBpffsPath = "/sys/fs/bpf/cgroup-lb";

    public string? ObjectPath { get; init; }

    /// <summary>
    /// The cookie of the network namespace the programs treat as the host's (<c>host_netns_cookie</c>). Null: the
    /// namespace the agent runs in, which is the host's for a hostNetwork pod. Tests name a namespace of their own.
    /// </summary>
    public ulong? HostNetnsCookie { get; init; }

    /// <summary>
    /// Translate only sockets of the host network namespace (<c>enable_socket_lb_host_only</c>; Cilium's
    /// socketLB.hostNamespaceOnly): pods keep their frontends untranslated for another data path to balance.
    /// </summary>
    public bool HostNamespaceOnly { get; init; }

    /// <summary>
    /// Load the programs with lb_skip_netns consulted (<c>enable_netns_exclusion</c>): the agent sets it when
    /// --exclude-netns names any namespace. Off, the programs never read the map (a translated call saves its lookup, 25-45
    /// ns) and <see cref="LoadBalancerDatapath.SetExcludedNetns"/> accepts only the empty set. A restart with it switched
    /// swaps the programs, as for <see cref="HostNamespaceOnly"/>.
    /// </summary>
    public bool NetnsExclusion { get; init; }

    /// <summary>
    /// Max entries of the service maps and the backend maps of both families (Cilium's <c>--bpf-lb-map-max</c>); null keeps
    /// the sizes compiled into the object (<see cref="DefaultServiceMapMax"/>, <see cref="DefaultBackendMapMax"/>). Maps
    /// already pinned with another size are refused when adopted (detach first).
    /// </summary>
    public uint? LbMapMax { get; init; }

    /// <summary>
    /// Create the service maps of both families and lb_svc_names with every entry allocated up front (Cilium's
    /// <c>--preallocate-bpf-maps</c>) instead of <c>BPF_F_NO_PREALLOC</c>: writes cost the kernel about a third as much
    /// (no allocation per entry), at the price of their whole capacity in kernel memory from the start, charged to the
    /// agent's memory cgroup. Maps already pinned with the other setting are refused when adopted (detach first).
    /// <see cref="PreallocatedMapNames"/> lists them. The backend maps are arrays, allocated whole whatever this says.
    /// </summary>
    public bool PreallocateLbMaps { get; init; }

    /// <summary>
    /// Batch calls of one large write step (more than 16k entries: a first sync, a mass change) in flight at once, the
    /// syncing thread's own included: null = one per core, at most 4; 1 = every call on the syncing thread (which wins
    /// when no second core is free: bench/README.md, "A large write step from several threads"). Internal, no flag.
    /// </summary>
    public int? MapWriteThreads { get; init; }

    /// <summary>
    /// Entries of lb4_sk_claim, where connected sockets (TCP, connected UDP) keep their reverse entries on kernels with the
    /// bpf_rdonly_cast kfunc (6.2+): 32 bytes each, allocated at creation (8 MiB at the default
    /// <see cref="Lb4SkClaim.DefaultSlots"/>). A power of two, at most <see cref="MaxSocketClaimSlots"/>; 0 keeps every
    /// entry in socket storage. A socket whose entry a live socket holds uses socket storage too, so fewer entries than
    /// open connected sockets cost speed, never an answer. Internal, no flag; tests make it small to make entries
    /// collide.
    /// </summary>
    public uint SocketClaimSlots { get; init; } = Lb4SkClaim.DefaultSlots;

    /// <summary>Upper bound of <see cref="SocketClaimSlots"/> (512 MiB of entries).</summary>
    public const uint MaxSocketClaimSlots = 1u << 24;

    /// <summary>The maps <see cref="LbMapMax"/> sizes.</summary>
    public static IReadOnlyList<string> LbMapNames { get; } = [MapNames.Services, MapNames.Backends, MapNames.Services6, MapNames.Backends6];

    /// <summary>
    /// The maps <see cref="PreallocateLbMaps"/> preallocates: the service maps, and lb_svc_names, whose 256-byte names a
    /// full sync writes for every frontend (50k in 80-120 ms of a thread when each is allocated as it is written, about
    /// a quarter of that preallocated; 21.5 MB for its 65536 service ids). Not the backend maps: they are arrays
    /// (<see cref="BackendArrayBytes"/>).
    /// </summary>
    public static IReadOnlyList<string> PreallocatedMapNames { get; } = [MapNames.Services, MapNames.Services6, MapNames.ServiceNames];

    /// <summary>
    /// Kernel memory of the two backend arrays (lb4_backends_v2 and lb6_backends_v2, 8 and 20 bytes a value, each
    /// rounded up to 8) with <paramref name="maxEntries"/> entries each: allocated at creation, whatever
    /// <see cref="PreallocateLbMaps"/> says: 4 MB at the default 131072, 32 MB at 1M.
    /// </summary>
    public static ulong BackendArrayBytes(uint maxEntries) => (ulong)maxEntries * (8 + 24);

    /// <summary>LB_SERVICE_MAP_MAX in lb_abi.h.</summary>
    public const uint DefaultServiceMapMax = 262144;

    /// <summary>LB_BACKEND_MAP_MAX in lb_abi.h.</summary>
    public const uint DefaultBackendMapMax = 131072;

    /// <summary>Bounds of <see cref="LbMapMax"/>: at least a frontend with every slot, at most what a u32 backend id space sensibly holds.</summary>
    public const uint MinLbMapMax = 1024;

    public const uint MaxLbMapMax = 16 * 1024 * 1024;

    /// <summary>Directory of pinned links, one per program.</summary>
    public string LinksPath => Path.Combine(BpffsPath, "links");

    public string MapPinPath(string mapName) => Path.Combine(BpffsPath, mapName);
}
