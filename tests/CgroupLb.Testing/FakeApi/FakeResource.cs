namespace CgroupLb.Testing.FakeApi;

/// <summary>How one resource type appears on the wire: its URL, its kinds, and whether it lives in namespaces.</summary>
public sealed record FakeResource(string Path, string ApiVersion, string Kind, string ListKind, bool Namespaced)
{
    public static readonly FakeResource Services = new("/api/v1/services", "v1", "Service", "ServiceList", true);

    public static readonly FakeResource EndpointSlices =
        new("/apis/discovery.k8s.io/v1/endpointslices", "discovery.k8s.io/v1", "EndpointSlice", "EndpointSliceList", true);

    public static readonly FakeResource Nodes = new("/api/v1/nodes", "v1", "Node", "NodeList", false);

    public static readonly IReadOnlyList<FakeResource> All = [Services, EndpointSlices, Nodes];
}
