using System.Net;
using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Model.Services;

/// <summary>
/// An endpoint as an EndpointSlice states it, before it is paired with one of the slice's ports. Only the first
/// address counts, as in kube-proxy: the API says all addresses of one endpoint are fungible. The hints are the
/// EndpointSlice controller's topology decision (<c>hints.forZones</c>, <c>hints.forNodes</c>), sorted.
/// </summary>
public sealed record SliceEndpoint(
    IPAddress Address,
    bool Ready,
    bool Serving,
    bool Terminating,
    string? NodeName,
    string? Zone,
    EquatableArray<string> ZoneHints,
    EquatableArray<string> NodeHints)
{
    public EndpointInfo WithPort(ushort port) => new(Address, port, Ready, Serving, Terminating, NodeName, Zone, ZoneHints, NodeHints);
}
