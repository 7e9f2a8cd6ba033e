namespace CgroupLb.Manifests;

/// <summary>
/// Maps a document's apiVersion and kind to a <see cref="ManifestKind"/>. A kind we consume under an API group we know
/// but a version we do not read (discovery.k8s.io/v1beta1 EndpointSlice) is an error, since the author meant an
/// object we would otherwise silently drop. A same-named kind from another group (a Knative Service) is just ignored.
/// </summary>
internal static class ManifestKindMap
{
    private static readonly (ManifestKind Kind, string Name, string Group, string ApiVersion)[] Supported =
    [
        (ManifestKind.Service, "Service", "", "v1"),
        (ManifestKind.EndpointSlice, "EndpointSlice", "discovery.k8s.io", "discovery.k8s.io/v1"),
        (ManifestKind.Node, "Node", "", "v1"),
    ];

    public static bool IsNamespaced(ManifestKind kind) => kind != ManifestKind.Node;

    /// <returns>The kind, or null when the document is simply not ours; <paramref name="error"/> set when it is ours but unusable.</returns>
    public static ManifestKind? Classify(string apiVersion, string kind, out string? error)
    {
        error = null;
        var slash = apiVersion.LastIndexOf('/');
        var group = slash < 0 ? "" : apiVersion[..slash];
        foreach (var supported in Supported)
        {
            if (supported.Name != kind || supported.Group != group)
            {
                continue;
            }

            if (supported.ApiVersion == apiVersion)
            {
                return supported.Kind;
            }

            error = $"apiVersion \"{apiVersion}\" is not supported for kind {kind}; use \"{supported.ApiVersion}\"";
            return supported.Kind;
        }

        return null;
    }
}
