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
    bool RecheckSoon);
