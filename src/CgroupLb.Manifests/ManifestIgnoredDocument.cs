namespace CgroupLb.Manifests;

/// <summary>
/// A well-formed document of a kind the load balancer does not consume (a Deployment next to its Service). kubectl-style
/// files mix kinds routinely, so this is information, not an error.
/// </summary>
public sealed record ManifestIgnoredDocument(string File, int DocumentIndex, int? ListItemIndex, string ApiVersion, string Kind, string? Name)
{
    public override string ToString()
    {
        var item = ListItemIndex is { } index ? $" items[{index}]" : "";
        var name = Name is null ? "" : $" {Name}";
        return $"{File} doc {DocumentIndex}{item}: kind {ApiVersion} {Kind}{name} is not a Service/EndpointSlice/Node";
    }
}
