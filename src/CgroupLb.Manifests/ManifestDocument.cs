using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Manifests;

/// <summary>
/// What became of one document (or one item of a <c>v1 List</c> document): exactly one of a valid
/// <see cref="Object"/>, a non-empty <see cref="Errors"/>, or <see cref="Ignored"/> for kinds we do not consume.
/// </summary>
public sealed record ManifestDocument(string File, int DocumentIndex, int? ListItemIndex, int Line)
{
    /// <summary>Who the document describes, when it got far enough to say; also set for invalid documents.</summary>
    public ManifestObjectKey? Key { get; init; }

    /// <summary>
    /// The Service the object belongs to, when the document says: a Service is its own, an EndpointSlice names it in
    /// its <c>kubernetes.io/service-name</c> label. Also set for invalid documents, so a service whose document cannot
    /// be used can still be held rather than rewritten without it.
    /// </summary>
    public ServiceName? Service { get; init; }

    public ManifestObject? Object { get; init; }

    public IReadOnlyList<ManifestError> Errors { get; init; } = [];

    public ManifestIgnoredDocument? Ignored { get; init; }
}
