using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Model.Services;

/// <summary>
/// A proxied Service reduced to the fields that matter for load balancing, ports sorted by name. Services that are
/// not proxied (headless, ExternalName, owned by another proxy, invalid) have no snapshot at all.
/// </summary>
public sealed record ServiceSnapshot(ServiceName Name, EquatableArray<ServicePortInfo> Ports);
