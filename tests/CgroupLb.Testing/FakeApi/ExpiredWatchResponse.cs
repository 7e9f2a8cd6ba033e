namespace CgroupLb.Testing.FakeApi;

/// <summary>How the fake server refuses a watch whose resourceVersion is older than its retained history.</summary>
public enum ExpiredWatchResponse
{
    /// <summary>200, then one ERROR event carrying a 410 Expired Status, then end of stream (what kube-apiserver does).</summary>
    ErrorEvent,

    /// <summary>HTTP 410 with a Status body on the watch request itself (what some proxies and older servers do).</summary>
    HttpGone,
}
