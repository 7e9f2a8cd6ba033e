using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Services;

/// <summary>
/// A port of an EndpointSlice. <see cref="Name"/> equals the name of the service port it serves, and
/// <see cref="Port"/> is the already-resolved target port of the slice's pods.
/// </summary>
public readonly record struct EndpointSlicePort(string Name, ushort Port, L4Protocol Protocol);
