using System.Text.Json;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// The output of <c>cglb-testpeer tcp-loop --trace</c>: every attempt with its CLOCK_MONOTONIC start and end (the
/// clock <see cref="System.Diagnostics.Stopwatch"/> reads here) and the summary the peer counted itself.
/// </summary>
public sealed record TcpLoopRun(IReadOnlyList<TcpLoopRun.Attempt> Attempts, TcpLoopRun.Totals Summary)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>One connect: <paramref name="S"/> before connect(), <paramref name="E"/> after the answer, in ns.</summary>
    public sealed record Attempt(long S, long E, string? Backend, string? Error);

    public sealed record Totals(
        bool Summary, int Attempts, int Failures, Dictionary<string, int> ByBackend, Dictionary<string, int> Errors);

    public static TcpLoopRun Parse(CommandResult result)
    {
        var attempts = new List<Attempt>();
        Totals? totals = null;
        foreach (string line in result.StdoutLines())
        {
            if (line.StartsWith("{\"summary\"", StringComparison.Ordinal))
                totals = JsonSerializer.Deserialize<Totals>(line, Json);
            else
                attempts.Add(JsonSerializer.Deserialize<Attempt>(line, Json)!);
        }
        return new TcpLoopRun(attempts,
            totals ?? throw new FormatException($"'{result.CommandLine}' printed no summary line; stderr: {result.Stderr}"));
    }
}
