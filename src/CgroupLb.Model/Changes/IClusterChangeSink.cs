using CgroupLb.Model.Kubernetes;
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

    /// <summary>
    /// The source cannot say what <paramref name="service"/> looks like and has no last good state to report instead
    /// (<paramref name="held"/> true: a manifest document of its Service or of one of its EndpointSlices is invalid
    /// since before this agent started), or it can again (false: the document was fixed or removed). While a service
    /// is held the syncer neither writes nor deletes its frontends: the maps may hold its good state from an earlier
    /// run, and an absent object here is not evidence that it is gone. Called only when the state flips; a source
    /// holds a service before it delivers objects for it, and releases it after.
    /// Every sink implements it (no default): a decorator that forgot to forward it would silently undo the hold.
    /// </summary>
    void OnServiceHeld(ServiceName service, bool held);
}
