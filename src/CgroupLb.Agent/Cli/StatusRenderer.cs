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
            .AddColumn("ID").AddColumn("Frontend").AddColumn("Kind").AddColumn("Service")
            .AddColumn("Affinity").AddColumn("Flags").AddColumn("Backends")
            .AddColumn(new TableColumn("Translated").RightAligned())
            .AddColumn(new TableColumn("Refused").RightAligned());
        foreach (var f in status.Frontends)
        {
            string backends = f.Backends.Count == 0
                ? "[yellow](none: connects refused)[/]"
                : string.Join("\n", f.Backends.Select(b => b.Backend is { } be
                    ? Markup.Escape(be.ToString())
                    : $"[red]slot {b.Slot}: missing backend {b.BackendId}[/]"));
            if (f.SubsetOf is { } total)
                backends = $"[yellow]subset: {f.Backends.Count} of {total} backends[/]\n" + backends;
            foreach (var problem in f.Problems)
                backends += $"\n[red]{Markup.Escape(problem)}[/]";
            table.AddRow(
                f.ServiceId.ToString(),
                Markup.Escape(FrontendText(f)),
                f.Kind.Label(),
                Markup.Escape(f.Name.Length == 0 ? "-" : f.Name),
                Markup.Escape(AffinityText(f)),
                Markup.Escape(FlagsText(f)),
                backends,
                f.Counters.Translated.ToString(),
                f.Counters.RefusedNoBackend.ToString());
        }
        console.Write(table);
        var refused = status.Refused.Where(r => !r.Programmed).ToList();
        if (refused.Count > 0)
        {
            var refusedTable = new Table().Border(TableBorder.Simple).Title("[red]Refused frontends (not programmed as asked; the agent retries them)[/]")
                .AddColumn("Frontend").AddColumn("Service").AddColumn("Reason").AddColumn(new TableColumn("Backends").RightAligned()).AddColumn("Detail");
            foreach (var r in refused)
                refusedTable.AddRow(Markup.Escape(r.Frontend.ToString()), Markup.Escape(r.Name.Length == 0 ? "-" : r.Name),
                    Markup.Escape(r.Reason), r.Backends.ToString(), Markup.Escape(r.Detail));
            console.Write(refusedTable);
        }
        foreach (var warning in status.Warnings)
            console.MarkupLine($"[yellow]warning: {Markup.Escape(warning)}[/]");
        var usage = string.Join("   ", status.Maps.Select(m => $"{m.Name} {m.Entries}/{m.Capacity} ({m.FillRatio:P1})"));
        console.MarkupLine($"[grey]{Markup.Escape(usage)}[/]");
    }

    public static string ToJson(DatapathStatus status) =>
        JsonSerializer.Serialize(new
        {
            frontends = status.Frontends.Select(f => new
            {
                id = f.ServiceId,
                frontend = new { address = f.Frontend.Address.ToString(), port = f.Frontend.Port, protocol = f.Frontend.Protocol.ToString().ToUpperInvariant(), family = Family(f.Frontend) },
                kind = f.Kind.Label(),
                service = f.Name,
                affinity = FrontendKinds.Affinity(f.Flags),
                affinityTimeoutSeconds = f.AffinityTimeoutSeconds,
                flags = FrontendKinds.PolicyFlags(f.Flags),
                backends = f.Backends.Select(b => new
                {
                    slot = b.Slot,
                    id = b.BackendId,
                    address = b.Backend?.Address.ToString(),
                    port = b.Backend?.Port,
                }),
                counters = new { translated = f.Counters.Translated, refusedNoBackend = f.Counters.RefusedNoBackend, reverseTranslated = f.Counters.ReverseTranslated },
                subsetOf = f.SubsetOf,
                problems = f.Problems.Count == 0 ? null : f.Problems,
            }),
            refused = status.Refused.Select(r => new
            {
                frontend = new { address = r.Frontend.Address.ToString(), port = r.Frontend.Port, protocol = r.Frontend.Protocol.ToString().ToUpperInvariant(), family = Family(r.Frontend) },
                service = r.Name,
                reason = r.Reason,
                programmed = r.Programmed,
                backends = r.Backends,
                limit = r.Limit,
                detail = r.Detail,
            }),
            warnings = status.Warnings,
            maps = status.Maps.Select(m => new { name = m.Name, entries = m.Entries, capacity = m.Capacity, fillRatio = m.FillRatio }),
        }, JsonOptions);

    /// <summary>
    /// A frontend as the table shows it: a NodePort's wildcard address matches every node address, so it reads
    /// <c>*:30080/TCP</c>, as `ss` prints a wildcard listener; every other kind shows its address.
    /// </summary>
    public static string FrontendText(FrontendStatus f) =>
        f.Kind == FrontendKind.NodePort && (f.Frontend.Address.Equals(System.Net.IPAddress.Any) || f.Frontend.Address.Equals(System.Net.IPAddress.IPv6Any))
            ? $"*:{f.Frontend.Port}/{f.Frontend.Protocol.ToString().ToUpperInvariant()}"
            : f.Frontend.ToString();

    /// <summary>sessionAffinity: ClientIP, or "-" for None.</summary>
    public static string AffinityText(FrontendStatus f) =>
        FrontendKinds.Affinity(f.Flags) is "None" ? "-"
        : f.AffinityTimeoutSeconds is { } timeout ? $"{FrontendKinds.Affinity(f.Flags)} {timeout}s"
        : FrontendKinds.Affinity(f.Flags);

    /// <summary>LocalOnly, HostOnly, or "-".</summary>
    public static string FlagsText(FrontendStatus f) => FrontendKinds.PolicyFlags(f.Flags) is { Count: > 0 } names ? string.Join(", ", names) : "-";

    /// <summary>"IPv4" or "IPv6", as the Kubernetes API names families (ipFamilies, addressType).</summary>
    private static string Family(CgroupLb.Model.LoadBalancing.Frontend frontend) =>
        frontend.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
