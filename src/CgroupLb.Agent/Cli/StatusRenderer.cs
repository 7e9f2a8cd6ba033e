using System.Text.Json;
using System.Text.Json.Serialization;
using CgroupLb.Datapath.Status;
using Spectre.Console;

namespace CgroupLb.Agent.Cli;

/// <summary>Renders <see cref="DatapathStatus"/> like `cilium service list`: one row per frontend, backends listed under it.</summary>
internal static class StatusRenderer
{
    /// <summary>A console as wide as the terminal, or 160 columns when piped, so a table in a log stays readable.</summary>
    public static IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings());
        if (Console.IsOutputRedirected)
            console.Profile.Width = 160;
        return console;
    }

    public static void WriteTable(DatapathStatus status, IAnsiConsole console)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("ID").AddColumn("Frontend").AddColumn("Service").AddColumn("Backends")
            .AddColumn(new TableColumn("Translated").RightAligned())
            .AddColumn(new TableColumn("Refused").RightAligned());
        foreach (var f in status.Frontends)
        {
            string backends = f.Backends.Count == 0
                ? "[yellow](none: connects refused)[/]"
                : string.Join("\n", f.Backends.Select(b => b.Backend is { } be
                    ? Markup.Escape(be.ToString())
                    : $"[red]slot {b.Slot}: missing backend {b.BackendId}[/]"));
            table.AddRow(
                f.ServiceId.ToString(),
                Markup.Escape(f.Frontend.ToString()),
                Markup.Escape(f.Name.Length == 0 ? "-" : f.Name),
                backends,
                f.Counters.Translated.ToString(),
                f.Counters.RefusedNoBackend.ToString());
        }
        console.Write(table);
        var usage = string.Join("   ", status.Maps.Select(m => $"{m.Name} {m.Entries}/{m.Capacity} ({m.FillRatio:P1})"));
        console.MarkupLine($"[grey]{Markup.Escape(usage)}[/]");
    }

    public static string ToJson(DatapathStatus status) =>
        JsonSerializer.Serialize(new
        {
            frontends = status.Frontends.Select(f => new
            {
                id = f.ServiceId,
                frontend = new { address = f.Frontend.Address.ToString(), port = f.Frontend.Port, protocol = f.Frontend.Protocol.ToString().ToUpperInvariant() },
                service = f.Name,
                flags = f.Flags.ToString(),
                backends = f.Backends.Select(b => new
                {
                    slot = b.Slot,
                    id = b.BackendId,
                    address = b.Backend?.Address.ToString(),
                    port = b.Backend?.Port,
                }),
                counters = new { translated = f.Counters.Translated, refusedNoBackend = f.Counters.RefusedNoBackend, reverseTranslated = f.Counters.ReverseTranslated },
            }),
            maps = status.Maps.Select(m => new { name = m.Name, entries = m.Entries, capacity = m.Capacity, fillRatio = m.FillRatio }),
        }, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
