using System.Text.Json;
using System.Text.Json.Serialization;
using CgroupLb.Agent.Metrics;
using CgroupLb.Datapath.Diagnostics;
using Spectre.Console;

namespace CgroupLb.Agent.Cli;

/// <summary>Renders a <see cref="DoctorReport"/> as a table (one row per check, what a missing item costs and the fix) or JSON.</summary>
internal static class DoctorRenderer
{
    public static void WriteTable(DoctorReport report, IAnsiConsole console)
    {
        console.MarkupLine($"cgroup-lb {Markup.Escape(BuildInfo.Version)} ({Markup.Escape(BuildInfo.Commit)}) on cgroup {Markup.Escape(report.CgroupPath)}, pins under {Markup.Escape(report.BpffsPath)}");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("Check").AddColumn("Status").AddColumn("Found").AddColumn("If missing / fix");
        foreach (var check in report.Checks)
        {
            string status = check.Status switch
            {
                DoctorStatus.Ok => "[green]ok[/]",
                DoctorStatus.Warning => "[yellow]degraded[/]",
                DoctorStatus.Missing => check.Required ? "[red]MISSING[/]" : "[yellow]missing[/]",
                _ => "[grey]info[/]",
            };
            string advice = string.Join("\n", new[] { check.Impact, check.Fix is null ? null : "fix: " + check.Fix }.Where(s => s is not null));
            table.AddRow(Markup.Escape($"{check.Category}: {check.Name}"), status, Markup.Escape(check.Detail), Markup.Escape(advice));
        }
        console.Write(table);
        console.MarkupLine(report.Healthy
            ? "[green]Everything `cgroup-lb run` requires is here.[/]"
            : $"[red]Missing required: {Markup.Escape(string.Join(", ", report.Checks.Where(c => c.Fails).Select(c => c.Name)))}[/]");
    }

    public static string ToJson(DoctorReport report) =>
        JsonSerializer.Serialize(new
        {
            version = BuildInfo.Version,
            commit = BuildInfo.Commit,
            cgroup = report.CgroupPath,
            bpffs = report.BpffsPath,
            healthy = report.Healthy,
            checks = report.Checks.Select(c => new
            {
                category = c.Category,
                name = c.Name,
                status = c.Status.ToString().ToLowerInvariant(),
                required = c.Required,
                detail = c.Detail,
                impact = c.Impact,
                fix = c.Fix,
            }),
        }, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
