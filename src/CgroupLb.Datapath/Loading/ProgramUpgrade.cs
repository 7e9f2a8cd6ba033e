using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Adopting pinned programs that this build would not have loaded: an older agent's code (a different program tag) or
/// an older ABI (the pinned programs use maps under names this build no longer has; lb_abi.h renames a map whose
/// layout changes). This build's programs are loaded next to them (reusing the maps pinned under current names,
/// creating the renamed ones) and held; <see cref="Complete"/> swaps each pinned link to its new program with
/// bpf_link_update, so the hook never runs without a program and the links keep their ids, then removes the pins of
/// maps no current program uses. The caller completes only after a full sync has filled the maps the new programs
/// read: until then the old programs keep serving from the old maps.
/// </summary>
internal sealed class ProgramUpgrade : IDisposable
{
    private readonly DatapathOptions options;
    private readonly Dictionary<string, (BpfProgramHandle Program, string Reason)> swapByProgram;
    private readonly IReadOnlyList<string> staleMapPins;

    private ProgramUpgrade(DatapathOptions options, Dictionary<string, (BpfProgramHandle, string)> swapByProgram, IReadOnlyList<string> staleMapPins)
    {
        this.options = options;
        this.swapByProgram = swapByProgram;
        this.staleMapPins = staleMapPins;
    }

    /// <summary>Programs whose links will be swapped, with why.</summary>
    public IReadOnlyDictionary<string, string> Reasons => swapByProgram.ToDictionary(p => p.Key, p => p.Value.Reason);

    /// <summary>Map pins under the bpffs directory that this build does not use (an older ABI's names).</summary>
    public IReadOnlyList<string> StaleMapPins => staleMapPins;

    public bool IsEmpty => swapByProgram.Count == 0 && staleMapPins.Count == 0;

    /// <summary>
    /// Compares each pinned link's program with the freshly loaded one: the same tag (the kernel's hash of the
    /// instructions), the same pinned maps and the same configuration (<see cref="ProgramConfig"/>) mean the same
    /// program; anything else is swapped later.
    /// </summary>
    public static ProgramUpgrade Plan(DatapathOptions options, LoadedObject loaded, IReadOnlyList<string> pinnedPrograms)
    {
        var currentMapIds = new HashSet<uint>();
        foreach (var name in MapNames.All)
        {
            using var map = BpfMapHandle.OpenPinned(options.MapPinPath(name));
            currentMapIds.Add(map.Info.Id);
        }

        var swaps = new Dictionary<string, (BpfProgramHandle, string)>();
        try
        {
            foreach (var name in pinnedPrograms)
            {
                using var link = BpfLink.OpenPinned(PinnedLinks.PathOf(options, name));
                using var pinned = BpfProgramHandle.FromId(link.ProgramId);
                var fresh = loaded.Object.GetProgram(name).Info;
                var pinnedMaps = pinned.Info.MapIds.Where(currentMapIds.Contains).ToHashSet();
                var freshMaps = fresh.MapIds.Where(currentMapIds.Contains).ToHashSet();
                // The configuration before the maps: a knob that prunes a map's only use (netns exclusion off) changes
                // the set of maps too, and the knob is the reason worth logging.
                string? reason = pinned.Info.Tag != fresh.Tag
                    ? $"pinned program tag {pinned.Info.Tag}, this build's {fresh.Tag}"
                    : ProgramConfig.Read(pinned.Info) is { } was && ProgramConfig.Read(fresh) is { } now && was != now
                        ? $"pinned program runs with {was}, this agent's with {now}"
                        : !pinnedMaps.SetEquals(freshMaps)
                            ? $"pinned program uses {pinnedMaps.Count} of the current maps, this build's uses {freshMaps.Count} (ABI change)"
                            : null;
                if (reason is not null)
                    swaps[name] = (BpfProgramHandle.FromId(fresh.Id), reason);
            }
            var upgrade = new ProgramUpgrade(options, swaps, FindStaleMapPins(options));
            swaps = [];
            return upgrade;
        }
        finally
        {
            foreach (var (program, _) in swaps.Values)
                program.Dispose();
        }
    }

    /// <summary>After a fresh load: nothing to swap, but maps of an older ABI may still be pinned.</summary>
    public static ProgramUpgrade StaleMapPinsOnly(DatapathOptions options) => new(options, [], FindStaleMapPins(options));

    /// <summary>Pinned maps directly under the bpffs directory whose names this build does not use.</summary>
    public static IReadOnlyList<string> FindStaleMapPins(DatapathOptions options)
    {
        if (!Directory.Exists(options.BpffsPath))
            return [];
        var current = MapNames.All.ToHashSet();
        var stale = new List<string>();
        foreach (var path in Directory.EnumerateFiles(options.BpffsPath))
        {
            if (current.Contains(Path.GetFileName(path)))
                continue;
            try
            {
                using var map = BpfMapHandle.OpenPinned(path);
                stale.Add(path);
            }
            catch (BpfException)
            {
                // Not a map (a program or link pinned here by someone else): not ours to remove.
            }
        }
        return stale;
    }

    /// <summary>
    /// Swaps every link listed to its new program (bpf_link_update), hands the new programs to
    /// <paramref name="attachments"/> and removes the stale map pins. Throws a <see cref="DatapathException"/> naming
    /// the link when a swap fails; the links not yet swapped keep their old programs.
    /// </summary>
    public void Complete(ProgramAttachments attachments, ILogger logger)
    {
        foreach (var name in swapByProgram.Keys.ToList())
        {
            var (program, reason) = swapByProgram[name];
            string pin = PinnedLinks.PathOf(options, name);
            try
            {
                using var link = BpfLink.OpenPinned(pin);
                uint oldProgram = link.ProgramId;
                link.Update(program);
                logger.LogInformation("Upgraded {Program} in place: link {Link} now runs program {New} instead of {Old} ({Reason})",
                    name, link.Id, program.Info.Id, oldProgram, reason);
            }
            catch (BpfException e)
            {
                throw new DatapathException("upgrade", $"cannot swap the link {pin} to this build's {name}: {e.Message}", e);
            }
            swapByProgram.Remove(name);
            attachments.Replace(name, program);
        }
        foreach (var path in staleMapPins)
        {
            File.Delete(path);
            logger.LogInformation("Removed the pin of map {Map}, which no program of this build uses", path);
        }
    }

    public void Dispose()
    {
        foreach (var (program, _) in swapByProgram.Values)
            program.Dispose();
        swapByProgram.Clear();
    }
}
