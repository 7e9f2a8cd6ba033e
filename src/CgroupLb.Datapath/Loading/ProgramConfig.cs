using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// The operator's choices a loaded program was configured with (its .rodata, <c>struct lb_datapath_config</c>), read
/// back from the kernel. The program tag cannot tell them apart (the kernel hashes the instructions with map
/// references zeroed), so adoption compares these too: a restart with --host-namespace-only switched, or with
/// --exclude-netns given or dropped, swaps the programs instead of keeping the old mode. Doctor reports them from the
/// pinned programs.
/// </summary>
public sealed record ProgramConfig(bool HostNamespaceOnly, ulong HostNetnsCookie, bool NetnsExclusion)
{
    public override string ToString() =>
        $"host-namespace-only {(HostNamespaceOnly ? "on" : "off")}, host netns cookie {(HostNetnsCookie == 0 ? "0 (init_net)" : HostNetnsCookie)}, " +
        $"netns exclusion {(NetnsExclusion ? "on" : "off")}";

    /// <summary>The configuration of the program with this info; null when it has no readable .rodata.</summary>
    public static ProgramConfig? Read(BpfProgramInfo program)
    {
        int size = Marshal.SizeOf<LbDatapathConfig>();
        foreach (uint id in program.MapIds)
        {
            using var map = BpfMapHandle.FromId(id);
            if (!map.Info.Name.EndsWith(".rodata", StringComparison.Ordinal) || map.Info.ValueSize < 16)
                continue;
            // An older build's config is shorter; the fields it lacked read as 0, their "off". (Builds before
            // enable_netns_exclusion always consulted lb_skip_netns, but had a pad there: they read as "off", and their
            // other instructions differ anyway, so the tag already swaps them.)
            var value = new byte[Math.Max((int)map.Info.ValueSize, size)];
            if (!map.TryLookup(BitConverter.GetBytes(0u), value.AsSpan(0, (int)map.Info.ValueSize)))
                return null;
            var config = MemoryMarshal.Read<LbDatapathConfig>(value);
            return new ProgramConfig(config.EnableSocketLbHostOnly != 0, config.HostNetnsCookie, config.EnableNetnsExclusion != 0);
        }
        return null;
    }

    /// <summary>The configuration of the program behind the pinned connect4 link; null when none is pinned.</summary>
    public static ProgramConfig? ReadPinned(DatapathOptions options)
    {
        string pin = PinnedLinks.PathOf(options, ProgramCatalog.Connect4);
        if (!File.Exists(pin))
            return null;
        using var link = BpfLink.OpenPinned(pin);
        using var program = BpfProgramHandle.FromId(link.ProgramId);
        return Read(program.Info);
    }
}
