namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// An object of a list page that could not be decoded: its key (namespace/name, or name) when it could be read, and why.
/// The rest of the page is applied without it.
/// </summary>
public sealed record RefusedObject(string? Key, string Reason)
{
    public override string ToString() => $"{Key ?? "<unnamed>"}: {Reason}";
}
