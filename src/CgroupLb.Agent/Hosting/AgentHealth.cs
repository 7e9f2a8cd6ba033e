using System.Text.Json;
using System.Text.Json.Serialization;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Liveness that sees a broken data path: /healthz answers 503 with the reasons as JSON when a program is not attached
/// to the cgroup and could not be attached again, or when a change has waited longer than the limit to reach the maps
/// (kube-proxy's healthz does the same with 2 x --sync-period). Waiting for the sources' first list is not a failure:
/// no change can be written before, and restarting would not help. The body carries kube-proxy's healthz fields
/// too (lastUpdated: the last sync written to the maps, or the agent's start before the first; currentTime), so
/// tooling written for kube-proxy's /healthz reads it.
/// </summary>
internal sealed class AgentHealth(Func<TimeSpan?> pendingAge, Func<bool> canSync, TimeSpan pendingLimit, TimeProvider time)
{
    private readonly DateTimeOffset started = time.GetUtcNow();
    private long lastUpdatedTicks;

    private volatile IReadOnlyList<string> attachmentProblems = [];

    public TimeSpan PendingLimit => pendingLimit;

    /// <summary>Set by the attachment check: the problems it could not repair (empty when every program runs).</summary>
    public void SetAttachmentProblems(IReadOnlyList<string> problems) => attachmentProblems = problems;

    /// <summary>Why the agent is not live now; empty when it is.</summary>
    public IReadOnlyList<string> Reasons()
    {
        var reasons = new List<string>(attachmentProblems);
        if (canSync() && pendingAge() is { } age && age > pendingLimit)
            reasons.Add($"a change has waited {age.TotalSeconds:F0} s to reach the maps (limit {pendingLimit.TotalSeconds:F0} s)");
        return reasons;
    }

    public bool IsHealthy => Reasons().Count == 0;

    /// <summary>Called after every sync that reached the maps.</summary>
    public void MarkUpdated() => Interlocked.Exchange(ref lastUpdatedTicks, time.GetUtcNow().UtcTicks);

    /// <summary>The last sync written to the maps, or the agent's start before the first (kube-proxy's lastUpdated).</summary>
    public DateTimeOffset LastUpdated =>
        Interlocked.Read(ref lastUpdatedTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : started;

    /// <summary>
    /// The /healthz body: {"status":"ok","lastUpdated":...,"currentTime":...}, or status "unhealthy" with the reasons.
    /// </summary>
    public string ToJson(IReadOnlyList<string> reasons) =>
        JsonSerializer.Serialize(new HealthReport(reasons.Count == 0 ? "ok" : "unhealthy", LastUpdated, time.GetUtcNow(),
            reasons.Count == 0 ? null : reasons), HealthJson.Options);

    private sealed record HealthReport(
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("lastUpdated")] DateTimeOffset LastUpdated,
        [property: JsonPropertyName("currentTime")] DateTimeOffset CurrentTime,
        [property: JsonPropertyName("reasons"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Reasons);

    private static class HealthJson
    {
        public static readonly JsonSerializerOptions Options = new();
    }
}
