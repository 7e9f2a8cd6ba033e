using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Holds an fd on every program the pinned links run, so the agent can attach a program again when its attachment is
/// gone: a link pin removed by hand (the kernel then destroys the link and detaches the program) or the cgroup
/// recreated (the old links are left pointing at a dead cgroup). <see cref="Check"/> compares the pins with what
/// bpf_prog_query reports on the cgroup; <see cref="Repair"/> attaches the held program with a new pinned link.
/// </summary>
internal sealed class ProgramAttachments : IDisposable
{
    private readonly DatapathOptions options;
    private readonly Dictionary<string, BpfProgramHandle> programByName;

    private ProgramAttachments(DatapathOptions options, Dictionary<string, BpfProgramHandle> programByName)
    {
        this.options = options;
        this.programByName = programByName;
    }

    /// <summary>Opens the programs the pinned links run now.</summary>
    public static ProgramAttachments Open(DatapathOptions options)
    {
        var programs = new Dictionary<string, BpfProgramHandle>();
        try
        {
            foreach (var name in ProgramCatalog.All)
            {
                using var link = BpfLink.OpenPinned(PinnedLinks.PathOf(options, name));
                programs[name] = BpfProgramHandle.FromId(link.ProgramId);
            }
            var opened = new ProgramAttachments(options, programs);
            programs = [];
            return opened;
        }
        finally
        {
            foreach (var program in programs.Values)
                program.Dispose();
        }
    }

    /// <summary>Replaces the held program of <paramref name="name"/> (after an upgrade swapped the link to it).</summary>
    public void Replace(string name, BpfProgramHandle program)
    {
        if (programByName.Remove(name, out var old))
            old.Dispose();
        programByName[name] = program;
    }

    /// <summary>What is wrong with each program's attachment right now; empty when every program runs on the cgroup.</summary>
    public IReadOnlyList<AttachmentProblem> Check()
    {
        var problems = new List<AttachmentProblem>();
        CgroupDirectory cgroup;
        try
        {
            cgroup = CgroupDirectory.Open(options.CgroupPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [.. ProgramCatalog.All.Select(p => new AttachmentProblem(p, $"cgroup {options.CgroupPath} cannot be opened: {e.Message}"))];
        }
        using (cgroup)
        {
            foreach (var name in ProgramCatalog.All)
            {
                string pin = PinnedLinks.PathOf(options, name);
                if (!File.Exists(pin))
                {
                    problems.Add(new AttachmentProblem(name, $"link pin {pin} is gone"));
                    continue;
                }
                using var link = BpfLink.OpenPinned(pin);
                if (!cgroup.QueryAttachedPrograms(ProgramCatalog.Hooks[name]).Contains(link.ProgramId))
                    problems.Add(new AttachmentProblem(name, $"program {name} (link {pin}) is not attached to cgroup {options.CgroupPath}"));
            }
        }
        return problems;
    }

    /// <summary>
    /// Attaches the held program of each problem to the cgroup again with a new pinned link (a stale pin is removed
    /// first). Returns the problems it could not repair, each with the reason.
    /// </summary>
    public IReadOnlyList<AttachmentProblem> Repair(IReadOnlyList<AttachmentProblem> problems, ILogger logger)
    {
        var remaining = new List<AttachmentProblem>();
        if (problems.Count == 0)
            return remaining;
        CgroupDirectory cgroup;
        try
        {
            cgroup = CgroupDirectory.Open(options.CgroupPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return problems;
        }
        using (cgroup)
        {
            foreach (var problem in problems)
            {
                string pin = PinnedLinks.PathOf(options, problem.Program);
                try
                {
                    Directory.CreateDirectory(options.LinksPath);
                    if (File.Exists(pin))
                        File.Delete(pin); // a link to a dead cgroup: unpinning releases it
                    programByName[problem.Program].AttachCgroupPinned(cgroup, ProgramCatalog.Hooks[problem.Program], pin);
                    logger.LogWarning("Re-attached {Program} to cgroup {Cgroup} ({Reason}); pinned at {Pin}",
                        problem.Program, options.CgroupPath, problem.Reason, pin);
                }
                catch (Exception e) when (e is BpfException or IOException or UnauthorizedAccessException)
                {
                    remaining.Add(problem with { Reason = $"{problem.Reason}; re-attaching failed: {e.Message}" });
                }
            }
        }
        return remaining;
    }

    public void Dispose()
    {
        foreach (var program in programByName.Values)
            program.Dispose();
        programByName.Clear();
    }
}

/// <summary>One program whose attachment to the cgroup is broken, and why.</summary>
public sealed record AttachmentProblem(string Program, string Reason);
