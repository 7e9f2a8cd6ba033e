namespace CgroupLb.Kubernetes.Reflection;

/// <summary>What failed, for error counters.</summary>
public enum ReflectorErrorKind
{
    /// <summary>A list request failed (transport error or a non-410 status).</summary>
    List,

    /// <summary>A paged list's continue token expired (410) in the middle of the list; the list restarts.</summary>
    ListExpired,

    /// <summary>A watch request failed to open or broke with a transport error.</summary>
    Watch,

    /// <summary>The watch resourceVersion was too old (410 as an HTTP status or as an ERROR event).</summary>
    WatchExpired,

    /// <summary>The watch stream carried an ERROR Status other than 410.</summary>
    WatchStatus,

    /// <summary>A watch event could not be decoded or applied.</summary>
    Decode,

    /// <summary>
    /// One object of a list page or a watch event could not be decoded; it was refused alone and the rest of the page,
    /// or the stream, applied.
    /// </summary>
    Refused,
}
