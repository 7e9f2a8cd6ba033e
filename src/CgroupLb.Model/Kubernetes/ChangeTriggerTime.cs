using System.Globalization;
using k8s.Models;

namespace CgroupLb.Model.Kubernetes;

/// <summary>
/// The <c>endpoints.kubernetes.io/last-change-trigger-time</c> annotation: the EndpointSlice (and Endpoints)
/// controller stamps each object with the time of the Pod or Service change that caused its latest update. kube-proxy
/// measures network programming latency from it to the moment its rules are written; we measure to the map write.
/// </summary>
public static class ChangeTriggerTime
{
    public const string Annotation = "endpoints.kubernetes.io/last-change-trigger-time";

    /// <summary>The annotated time, or null when the annotation is missing or not an RFC 3339 time.</summary>
    public static DateTimeOffset? Of(V1ObjectMeta? metadata) =>
        metadata?.Annotations?.TryGetValue(Annotation, out string? text) == true ? Parse(text) : null;

    /// <summary>
    /// Parses RFC 3339 with up to nine fractional digits (Go's RFC3339Nano, which the controller writes); .NET keeps
    /// seven, so the last two are dropped.
    /// </summary>
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        string trimmed = text.Trim();
        int dot = trimmed.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            int end = dot + 1;
            while (end < trimmed.Length && char.IsAsciiDigit(trimmed[end]))
                end++;
            if (end - dot - 1 > 7)
                trimmed = trimmed[..(dot + 8)] + trimmed[end..];
        }
        return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value : null;
    }
}
