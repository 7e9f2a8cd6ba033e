using CgroupLb.Model.Kubernetes;

namespace CgroupLb.Manifests;

/// <summary>
/// A service the source cannot describe and has no last good state for: <see cref="Object"/> (the Service itself or
/// one of its EndpointSlices) has an invalid document, and no earlier read of it stands in. Whatever the maps hold for
/// <see cref="Service"/> must stay until the document is fixed or removed; after an agent restart that is the good
/// state the previous run wrote.
/// </summary>
public sealed record ManifestHold(ServiceName Service, ManifestObjectKey Object, string File, int DocumentIndex, string Why)
{
    /// <summary>"Service default/web: EndpointSlice default/web-1 from web.yaml doc 1: its document is invalid".</summary>
    public override string ToString() => $"Service {Service}: {Object} from {File} doc {DocumentIndex}: {Why}";
}
