using System.Net.Sockets;
using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Model.Services;

/// <summary>
/// An EndpointSlice reduced to the fields that matter, endpoints sorted by address so two equal slices compare
/// equal (and the tracker can drop no-op updates). FQDN slices have no info: they are never proxied.
/// </summary>
public sealed record EndpointSliceInfo(
    string Name,
    ServiceName Service,
    AddressFamily Family,
    EquatableArray<EndpointSlicePort> Ports,
    EquatableArray<SliceEndpoint> Endpoints);
