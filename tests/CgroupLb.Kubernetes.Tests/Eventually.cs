using System.Diagnostics;
using CgroupLb.Testing.FakeApi;
using Xunit.Sdk;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>Polls a condition until it holds or a deadline passes; a bug fails the test instead of hanging it.</summary>
public static class Eventually
{
    public static async Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new XunitException($"not true after {timeout}: {describe()}");
            }

            await Task.Delay(20);
        }

        return clock.Elapsed;
    }

    /// <summary>Waits until the sink's view of a kind equals the server's store (same keys, same resourceVersions).</summary>
    public static Task<TimeSpan> ConvergedAsync(RecordingChangeSink sink, FakeApiServer server, string kind, FakeResource resource, TimeSpan timeout) =>
        TrueAsync(
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
