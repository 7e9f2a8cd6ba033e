using CgroupLb.Testing;
using CgroupLb.Testing.FakeApi;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>Waits until what a <see cref="RecordingChangeSink"/> saw equals what the fake API server holds.</summary>
public static class SinkConvergence
{
    /// <summary>Waits until the sink's view of a kind equals the server's store (same keys, same resourceVersions).</summary>
    public static Task<TimeSpan> WaitAsync(RecordingChangeSink sink, FakeApiServer server, string kind, FakeResource resource, TimeSpan timeout) =>
        Eventually.TrueAsync(
            () => SameVersions(sink.Versions(kind), server.Versions(resource)),
            timeout,
            () => $"{kind}: sink has {sink.Versions(kind).Count} objects, server {server.Versions(resource).Count}; differing keys: " +
                  string.Join(", ", Differences(sink.Versions(kind), server.Versions(resource)).Take(10)));

    private static bool SameVersions(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var version) && version == pair.Value);

    private static IEnumerable<string> Differences(IReadOnlyDictionary<string, string> sink, IReadOnlyDictionary<string, string> server) =>
        sink.Keys.Union(server.Keys)
            .Where(key => sink.GetValueOrDefault(key) != server.GetValueOrDefault(key))
            .Select(key => $"{key} (sink {sink.GetValueOrDefault(key) ?? "-"}, server {server.GetValueOrDefault(key) ?? "-"})");
}
