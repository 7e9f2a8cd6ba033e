namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// An object of a list page or watch event that could not be decoded: its key (namespace/name, or name) when it could be
/// read, and why. The rest of the page, or the stream's later events, apply without it.
/// </summary>
public sealed record RefusedObject(string? Key, string Reason)
{
    /// <summary>The object's metadata.resourceVersion when it could be read: a watch moves past it.</summary>
    public string? ResourceVersion { get; init; }

    public override string ToString() => $"{Key ?? "<unnamed>"}: {Reason}";
}
