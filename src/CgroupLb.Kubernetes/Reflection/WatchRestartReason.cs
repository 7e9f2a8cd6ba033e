namespace CgroupLb.Kubernetes.Reflection;

/// <summary>Why a reflector opened a new watch.</summary>
public enum WatchRestartReason
{
    /// <summary>The server ended the stream (its timeout, a proxy, a restart); the watch resumes from the last resourceVersion.</summary>
    Closed,

    /// <summary>410 Gone: the resourceVersion fell out of the server's history, so the reflector relists.</summary>
    Expired,

    /// <summary>Nothing arrived, not even a bookmark, for longer than the quiet limit; the connection is presumed dead.</summary>
    Quiet,

    /// <summary>The watch could not be opened or broke with a transport error; retried after a backoff.</summary>
    Failed,

    /// <summary>
    /// The stream carried something the reflector could not apply (an error Status other than 410, an undecodable
    /// event): events may have been lost, so the reflector relists.
    /// </summary>
    Desynced,
}
