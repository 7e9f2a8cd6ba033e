using CgroupLb.Agent.Cli;
using CgroupLb.Datapath.NodeAddresses;

namespace CgroupLb.Agent.Hosting;

/// <summary>Everything `cgroup-lb run` was told. Exactly one source: manifests (--source) or the Kubernetes API.</summary>
internal sealed record RunOptions
{
    public string? SourcePath { get; init; }
    public string? Kubeconfig { get; init; }
    public required string CgroupPath { get; init; }
    public required string BpffsPath { get; init; }
    public required string NodeName { get; init; }
    public bool DetachOnExit { get; init; }

    /// <summary>--lock-timeout: how long to wait for another agent to release the bpffs directory before giving up.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>--sync-period: the longest time between two full syncs (kube-proxy's flag and default).</summary>
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>--map-check-period: the least time between two checks of the kernel maps by the periodic full sync.</summary>
    public TimeSpan MapCheckPeriod { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>--min-sync-period: the least time between the starts of two syncs.</summary>
    public TimeSpan MinSyncPeriod { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>--health-pending-limit: /healthz fails when a change waits longer to reach the maps; default 2 x sync period.</summary>
    public TimeSpan? HealthPendingLimit { get; init; }

    /// <summary>--healthz-bind-address: where /healthz and /readyz are served, or null for nowhere.</summary>
    public BindAddress? HealthzAddress { get; init; }

    /// <summary>--metrics-bind-address: where /metrics is served, or null for nowhere.</summary>
    public BindAddress? MetricsAddress { get; init; }

    /// <summary>--state-dir's default: a tmpfs on most nodes (gone at reboot, kept across agent restarts).</summary>
    public const string DefaultStateDir = "/var/run/cgroup-lb";

    /// <summary>--state-dir: small files a restarted agent reads back (never under bpffs, which holds only BPF objects).</summary>
    public string StateDir { get; init; } = DefaultStateDir;

    /// <summary>--metrics-per-service: per-Service translation and refusal series on /metrics (off: totals only).</summary>
    public bool MetricsPerService { get; init; }

    public bool JsonLogs { get; init; }
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>--bpf-lb-sock-terminate-pod-connections: close TCP connections of removed backends too (UDP always).</summary>
    public bool SockTerminateTcp { get; init; }

    /// <summary>--host-namespace-only: translate only sockets of the host network namespace (Cilium's socketLB.hostNamespaceOnly).</summary>
    public bool HostNamespaceOnly { get; init; }

    /// <summary>--bpf-lb-map-max: max entries of the service and backend maps (null: the sizes compiled into the object).</summary>
    public uint? LbMapMax { get; init; }

    /// <summary>--preallocate-bpf-maps: create the service and backend maps with every entry allocated up front.</summary>
    public bool PreallocateLbMaps { get; init; }

    /// <summary>--exclude-netns: network namespace files whose sockets are never translated.</summary>
    public IReadOnlyList<string> ExcludeNetns { get; init; } = [];

    /// <summary>--nodeport-addresses: which node addresses accept NodePort connections (kube-proxy's flag).</summary>
    public NodePortAddresses NodePortAddresses { get; init; } = NodePortAddresses.All;

    public bool UsesKubernetes => SourcePath is null;
}
