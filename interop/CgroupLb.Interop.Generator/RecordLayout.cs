using System.Globalization;
using System.Text.RegularExpressions;

namespace CgroupLb.Interop.Generator;

/// <summary>Field offsets and size of one C record, as computed by clang for the host target.</summary>
public sealed record RecordLayout(string Name, int Size, int Alignment, IReadOnlyDictionary<string, int> FieldOffsets);

/// <summary>
/// Reads the text printed by <c>clang -Xclang -fdump-record-layouts</c>. Only direct members of a record are kept
/// (nested records print their members indented one level deeper). Bit-fields are skipped: libbpf only uses unnamed
/// ones as padding ("__u32 :32;", "size_t :0;"), whose effect is already in the named offsets and the size, and the
/// generator refuses records with named bit-fields.
/// </summary>
public static partial class RecordLayoutParser
{
    public static IReadOnlyDictionary<string, RecordLayout> Parse(string dump)
    {
        var layouts = new Dictionary<string, RecordLayout>();
        string? current = null;
        var offsets = new Dictionary<string, int>();
        foreach (var line in dump.Split('\n'))
        {
            var header = HeaderLine().Match(line);
            if (current is null)
            {
                if (header.Success)
                {
                    current = header.Groups["name"].Value;
                    offsets = [];
                }

                continue;
            }

            var size = SizeLine().Match(line);
            if (size.Success)
            {
                // A record is dumped again whenever it is laid out in another context; the layout is the same.
                layouts.TryAdd(current, new RecordLayout(
                    current,
                    int.Parse(size.Groups["size"].Value, CultureInfo.InvariantCulture),
                    int.Parse(size.Groups["align"].Value, CultureInfo.InvariantCulture),
                    offsets));
                current = null;
                continue;
            }

            var field = FieldLine().Match(line);
            if (field.Success && !field.Groups["bits"].Success)
            {
                var declaration = field.Groups["decl"].Value.TrimEnd();
                var name = declaration[(declaration.LastIndexOfAny([' ', '*']) + 1)..];
                offsets.TryAdd(name, int.Parse(field.Groups["offset"].Value, CultureInfo.InvariantCulture));
            }
        }

        return layouts;
    }

    // "         0 | struct bpf_map_batch_opts"
    [GeneratedRegex(@"^\s*0 \| (?:struct|union) (?<name>[A-Za-z_][A-Za-z0-9_]*)\s*$")]
    private static partial Regex HeaderLine();

    // "        16 |   __u64 flags" and "   32:0-31 |   __u32 " (exactly one indentation level: direct members only)
    [GeneratedRegex(@"^\s*(?<offset>[0-9]+)(?<bits>:[-0-9]+)? \|   (?<decl>[^ ].*)$")]
    private static partial Regex FieldLine();

    // "           | [sizeof=24, dsize=24, align=8]"
    [GeneratedRegex(@"^\s*\| \[sizeof=(?<size>[0-9]+),(?: dsize=[0-9]+,)? align=(?<align>[0-9]+)")]
    private static partial Regex SizeLine();
}
