using k8s.Models;

namespace CgroupLb.Model.Changes;

/// <summary>
/// Where sources (manifest files, the Kubernetes watch) report object changes, as {previous, current} pairs:
/// previous null means created, current null means deleted. Sources never compute load-balancer state.
/// </summary>
public interface IClusterChangeSink
{
    void OnService(V1Service? previous, V1Service? current);
    void OnEndpointSlice(V1EndpointSlice? previous, V1EndpointSlice? current);
    void OnNode(V1Node? previous, V1Node? current);

    /// <summary>
    /// The source has delivered its complete initial state (a full list, or every file read once). Nothing may be
    /// written to the maps before every source has said this, so a starting agent never deletes working services.
    /// </summary>
    void OnSynced(string source);
}
