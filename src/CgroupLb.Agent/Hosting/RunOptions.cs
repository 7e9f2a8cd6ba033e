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

    /// <summary>host:port for /healthz, /readyz and /metrics, or null for none.</summary>
    public string? HealthAddress { get; init; }
    public bool JsonLogs { get; init; }
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>--bpf-lb-sock-terminate-pod-connections: close TCP connections of removed backends too (UDP always).</summary>
    public bool SockTerminateTcp { get; init; }

    public bool UsesKubernetes => SourcePath is null;
}
