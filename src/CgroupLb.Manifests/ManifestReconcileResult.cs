using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Manifests;

/// <param name="Changes">Pairs to deliver, sorted by key (Services, then EndpointSlices, then Nodes).</param>
/// <param name="Retained">Objects kept at their last good state, sorted by key.</param>
/// <param name="RecheckSoon">
/// A file vanished this pass; its objects are deleted only if it is still gone on the next pass, which should come
/// after one debounce interval rather than a full poll interval.
/// </param>
public sealed record ManifestReconcileResult(
    IReadOnlyList<ManifestChange> Changes,
    IReadOnlyList<ManifestRetention> Retained,
    bool RecheckSoon)
{
    /// <summary>Every hold in force after this pass, sorted by service then object.</summary>
    public IReadOnlyList<ManifestHold> Holds { get; init; } = [];

    /// <summary>Services held now and not after the previous pass, sorted; to report before <see cref="Changes"/>.</summary>
    public IReadOnlyList<ServiceName> HoldsAcquired { get; init; } = [];

    /// <summary>Services held after the previous pass and not now, sorted; to report after <see cref="Changes"/>.</summary>
    public IReadOnlyList<ServiceName> HoldsReleased { get; init; } = [];

    /// <summary>
    /// Invalid EndpointSlice documents without a last good state that name no Service, so no service can be held for
    /// them: the service they belong to is synced without their endpoints.
    /// </summary>
    public IReadOnlyList<ManifestDocument> Unattributed { get; init; } = [];
}
