namespace CgroupLb.Model.Services;

/// <summary>The node this agent runs on, as far as load balancing cares: its zone, for topology-aware routing.</summary>
public sealed record NodeInfo(string Name, string? Zone);
