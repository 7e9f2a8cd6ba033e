namespace CgroupLb.Datapath.Abi;

/// <summary>Map names from bpf/lib/lb_abi.h; they are also the pin file names under the bpffs directory.</summary>
internal static class MapNames
{
    public const string Services = "lb4_services_v2";
    public const string Backends = "lb4_backends_v2";
    public const string ReverseSockets = "lb4_reverse_sk";
    /// <summary>Socket storage: the frontend of each socket the programs translated (read only by BPF programs).</summary>
    public const string SocketFrontends = "lb4_sk_frontend";
    /// <summary>Connected sockets' reverse entries by socket cookie (struct lb4_sk_claim), where the kernel has bpf_rdonly_cast.</summary>
    public const string SocketClaims = "lb4_sk_claim";
    public const string ServiceStats = "lb_svc_stats";
    public const string ServiceNames = "lb_svc_names";
    /// <summary>Bitmap of frontend addresses (array of __u64), kept by the writer so misses skip the service lookup.</summary>
    public const string FrontendFilter = "lb4_fe_filter";
    public const string Refused = "lb4_refused";
    /// <summary>The IPv6 twin of <see cref="FrontendFilter"/>, same geometry, its own armed word.</summary>
    public const string FrontendFilter6 = "lb6_fe_filter";
    public const string Services6 = "lb6_services";
    /// <summary>IPv6 backends; their ids share one space with <see cref="Backends"/>.</summary>
    public const string Backends6 = "lb6_backends_v2";
    public const string ReverseSockets6 = "lb6_reverse_sk";
    /// <summary>Socket storage of the IPv6 programs, as <see cref="SocketFrontends"/>.</summary>
    public const string SocketFrontends6 = "lb6_sk_frontend";
    /// <summary>The IPv6 twin of <see cref="SocketClaims"/> (struct lb6_sk_claim), with as many entries.</summary>
    public const string SocketClaims6 = "lb6_sk_claim";
    public const string Refused6 = "lb6_refused";
    /// <summary>ClientIP session affinity, LRU hash of struct lb_affinity_key to lb_affinity_value (both families).</summary>
    public const string Affinity = "lb_affinity";
    /// <summary>The IPv4 node-address set of NodePort (__be32 -> struct lb_node_addr), kept by the agent's node-address sync.</summary>
    public const string NodeAddresses = "lb4_node_addrs";
    /// <summary>The IPv6 node-address set of NodePort (union lb6_addr -> struct lb_node_addr).</summary>
    public const string NodeAddresses6 = "lb6_node_addrs";
    /// <summary>Ring buffer of struct lb_trace_event, read by `cgroup-lb trace` (bpf/lib/trace_abi.h).</summary>
    public const string TraceEvents = "lb_trace_events";
    /// <summary>One struct lb_trace_control: how many tracers listen, and events lost to a full ring.</summary>
    public const string TraceControl = "lb_trace_ctl";
    /// <summary>Network namespace cookies whose sockets the programs never translate (--exclude-netns).</summary>
    public const string SkipNetns = "lb_skip_netns";
    /// <summary>The reuse generation of each service id (an mmapable array of __u32), moved on after each change to its frontend.</summary>
    public const string ServiceGenerations = "lb_svc_gen";

    public static readonly IReadOnlyList<string> All =
        [Services, Backends, ReverseSockets, SocketFrontends, ServiceStats, ServiceNames, FrontendFilter, Refused, Services6, Backends6, ReverseSockets6, SocketFrontends6, Refused6, TraceEvents, TraceControl, Affinity, SkipNetns, NodeAddresses, NodeAddresses6, FrontendFilter6, ServiceGenerations, SocketClaims, SocketClaims6];
}
