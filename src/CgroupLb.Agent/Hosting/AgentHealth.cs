using System.Text.Json;
using System.Text.Json.Serialization;

namespace CgroupLb.Agent.Hosting;

/// <summary>
/// Liveness that sees a broken data path: /healthz answers 503 with the reasons as JSON when a program is not attached
/// to the cgroup and could not be attached again, or when a change has waited longer than the limit to reach the maps
/// (kube-proxy's healthz does the same with 2 x --sync-period). Waiting for the sources' first list is not a failure:
/// no change can be written before, and restarting would not help.
/// </summary>
internal sealed class AgentHealth(Func<TimeSpan?> pendingAge, Func<bool> canSync, TimeSpan pendingLimit)
{
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

    /// <summary>The /healthz body: {"status":"ok"} or {"status":"unhealthy","reasons":[...]}.</summary>
    public static string ToJson(IReadOnlyList<string> reasons) =>
        JsonSerializer.Serialize(new HealthReport(reasons.Count == 0 ? "ok" : "unhealthy", reasons.Count == 0 ? null : reasons), HealthJson.Options);

    private sealed record HealthReport(
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("reasons"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Reasons);

    private static class HealthJson
    {
        public static readonly JsonSerializerOptions Options = new();
    }
}
