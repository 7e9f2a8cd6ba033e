using System.Diagnostics;
using System.Text.Json;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// The output of <c>cglb-testpeer udp-hold|tcp-hold</c>: what happened to one long-lived socket, each event stamped
/// with CLOCK_MONOTONIC nanoseconds (<see cref="Stopwatch.GetTimestamp"/> in the test process).
/// </summary>
public sealed record HoldRun(IReadOnlyList<HoldRun.Event> Events)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Kind (the "event" key) is connected (Peer set), reply (Backend set) or error (Error set).</summary>
    public sealed record Event(long T, string Kind, string? Peer, string? Backend, string? Error)
    {
        public override string ToString() => $"{T} {Kind} {Peer ?? Backend ?? Error}";
    }

    public IEnumerable<Event> Before(long timestamp) => Events.Where(e => e.T < timestamp);

    public IEnumerable<Event> After(long timestamp) => Events.Where(e => e.T >= timestamp);

    public IEnumerable<Event> Errors => Events.Where(e => e.Kind == "error");

    /// <summary>Errors the socket reported; a reply that did not come in time (TIMEOUT, a slow machine) is not one.</summary>
    public IEnumerable<Event> SocketErrors => Errors.Where(e => e.Error != "TIMEOUT");

    public IEnumerable<Event> Replies => Events.Where(e => e.Kind == "reply");

    public override string ToString() => string.Join("\n", Events);

    public static HoldRun Parse(CommandResult result) => ParseLines(result.StdoutLines());

    public static HoldRun ParseLines(IEnumerable<string> lines) =>
        new(lines.Select(line => JsonSerializer.Deserialize<Line>(line, Json)!)
            .Select(l => new Event(l.T, l.Event, l.Peer, l.Backend, l.Error)).ToList());

    private sealed record Line(long T, string Event, string? Peer, string? Backend, string? Error);
}
