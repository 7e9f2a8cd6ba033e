using System.Globalization;
using System.Text.Json;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// BPF programs attached to a cgroup, found and detached with bpftool. A test that fails between Attach and Detach
/// leaves pinned links behind; before the cgroup goes away they are detached by id, links first (a link-attached
/// program cannot be detached with BPF_PROG_DETACH), then any program attached the legacy way.
/// </summary>
public static class CgroupAttachments
{
    public sealed record Attachment(int ProgramId, string AttachType, string Name);

    /// <summary>Programs attached directly to <paramref name="cgroupPath"/> (not inherited ones).</summary>
    public static async Task<IReadOnlyList<Attachment>> ListAsync(string cgroupPath)
    {
        CommandResult shown = await HostCommand.RunAsync("bpftool", ["-j", "cgroup", "show", cgroupPath]).ConfigureAwait(false);
        if (shown.ExitCode != 0)
        {
            // bpftool 7.1 cannot list a cgroup on kernels before 6.0; ask the kernel directly there.
            return CgroupProgramQuery.Query(cgroupPath)
                .Select(p => new Attachment(p.ProgramId, p.AttachType, ""))
                .ToList();
        }
        if (string.IsNullOrWhiteSpace(shown.Stdout))
            return [];
        using var json = JsonDocument.Parse(shown.Stdout);
        return json.RootElement.EnumerateArray()
            .Select(a => new Attachment(
                a.GetProperty("id").GetInt32(),
                a.GetProperty("attach_type").GetString() ?? "",
                a.TryGetProperty("name", out JsonElement name) ? name.GetString() ?? "" : ""))
            .ToList();
    }

    /// <summary>Ids of bpf_links whose target is this cgroup.</summary>
    public static async Task<IReadOnlyList<int>> LinkIdsAsync(string cgroupPath)
    {
        ulong cgroupId = await CgroupIdAsync(cgroupPath).ConfigureAwait(false);
        CommandResult shown = await HostCommand.RunCheckedAsync("bpftool", "-j", "link", "show").ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(shown.Stdout))
            return [];
        using var json = JsonDocument.Parse(shown.Stdout);
        return json.RootElement.EnumerateArray()
            .Where(l => l.TryGetProperty("cgroup_id", out JsonElement id) && id.GetUInt64() == cgroupId)
            .Select(l => l.GetProperty("id").GetInt32())
            .ToList();
    }

    /// <summary>Detaches everything attached to the cgroup; returns a line per detached link or program, for the log.</summary>
    public static async Task<IReadOnlyList<string>> DetachAllAsync(string cgroupPath)
    {
        var detached = new List<string>();
        foreach (int linkId in await LinkIdsAsync(cgroupPath).ConfigureAwait(false))
        {
            await HostCommand.RunCheckedAsync("bpftool", "link", "detach", "id", Id(linkId)).ConfigureAwait(false);
            detached.Add($"link {linkId}");
        }
        foreach (Attachment attachment in await ListAsync(cgroupPath).ConfigureAwait(false))
        {
            await HostCommand.RunCheckedAsync(
                "bpftool", "cgroup", "detach", cgroupPath, attachment.AttachType, "id", Id(attachment.ProgramId)).ConfigureAwait(false);
            detached.Add($"program {attachment.ProgramId} ({attachment.Name}, {attachment.AttachType})");
        }
        IReadOnlyList<Attachment> left = await ListAsync(cgroupPath).ConfigureAwait(false);
        if (left.Count > 0)
        {
            throw new InvalidOperationException(
                $"cgroup {cgroupPath}: programs still attached after detaching: {string.Join(", ", left)}");
        }
        return detached;
    }

    /// <summary>A cgroup v2 id is the inode number of its directory.</summary>
    public static async Task<ulong> CgroupIdAsync(string cgroupPath)
    {
        CommandResult stat = await HostCommand.RunCheckedAsync("stat", "-c", "%i", cgroupPath).ConfigureAwait(false);
        return ulong.Parse(stat.Stdout.Trim(), CultureInfo.InvariantCulture);
    }

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);
}
