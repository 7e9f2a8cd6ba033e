namespace CgroupLb.Interop.Generator;

/// <summary>One libbpf function to bind, with the per-function facts the C prototype cannot express.</summary>
/// <param name="Name">The exported C symbol.</param>
/// <param name="NullableStrings">const char* parameters documented to accept NULL; emitted as <c>string?</c>.</param>
/// <param name="SetLastError">Override of the default (pointer-returning functions capture errno, int-returning ones do not).</param>
public sealed record FunctionEntry(string Name, IReadOnlySet<string> NullableStrings, bool? SetLastError);

/// <summary>A C struct to mirror as a blittable C# struct with explicit offsets.</summary>
public sealed record StructEntry(string CName, string CSharpName);

/// <summary>A C enum to mirror; <see cref="Prefix"/> is stripped from constant names before PascalCasing.</summary>
public sealed record EnumEntry(string CName, string CSharpName, string Prefix, bool IsPublic);

/// <summary>The checked-in lists of what to bind (interop/libbpf-functions.txt and interop/libbpf-types.txt).</summary>
public sealed record AllowList(IReadOnlyList<FunctionEntry> Functions, IReadOnlyList<StructEntry> Structs, IReadOnlyList<EnumEntry> Enums)
{
    /// <summary>
    /// Functions file: one symbol per line, then optional words <c>nullable=a,b</c>, <c>setlasterror</c>,
    /// <c>nosetlasterror</c>. '#' starts a comment.
    /// </summary>
    public static IReadOnlyList<FunctionEntry> ParseFunctions(string path)
    {
        var entries = new List<FunctionEntry>();
        foreach (var (words, lineNumber) in ReadLines(path))
        {
            var nullable = new HashSet<string>(StringComparer.Ordinal);
            bool? setLastError = null;
            foreach (var option in words.Skip(1))
            {
                if (option.StartsWith("nullable=", StringComparison.Ordinal))
                {
                    nullable.UnionWith(option["nullable=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries));
                }
                else if (option == "setlasterror")
                {
                    setLastError = true;
                }
                else if (option == "nosetlasterror")
                {
                    setLastError = false;
                }
                else
                {
                    throw new FormatException($"{path}:{lineNumber}: unknown option '{option}' for {words[0]}");
                }
            }

            entries.Add(new FunctionEntry(words[0], nullable, setLastError));
        }

        var duplicate = entries.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new FormatException($"{path}: function {duplicate.Key} is listed twice");
        }

        return entries;
    }

    /// <summary>
    /// Types file: <c>struct c_name CSharpName</c> or <c>enum c_name CSharpName PREFIX_ public|internal</c>.
    /// </summary>
    public static (IReadOnlyList<StructEntry> Structs, IReadOnlyList<EnumEntry> Enums) ParseTypes(string path)
    {
        var structs = new List<StructEntry>();
        var enums = new List<EnumEntry>();
        foreach (var (words, lineNumber) in ReadLines(path))
        {
            switch (words)
            {
                case ["struct", var cName, var csName]:
                    structs.Add(new StructEntry(cName, csName));
                    break;
                case ["enum", var cName, var csName, var prefix, "public" or "internal"]:
                    enums.Add(new EnumEntry(cName, csName, prefix, words[4] == "public"));
                    break;
                default:
                    throw new FormatException($"{path}:{lineNumber}: expected 'struct <c_name> <CSharpName>' or 'enum <c_name> <CSharpName> <PREFIX_> public|internal'");
            }
        }

        return (structs, enums);
    }

    private static IEnumerable<(string[] Words, int LineNumber)> ReadLines(string path)
    {
        var lineNumber = 0;
        foreach (var rawLine in File.ReadLines(path))
        {
            lineNumber++;
            var hash = rawLine.IndexOf('#');
            var line = (hash >= 0 ? rawLine[..hash] : rawLine).Trim();
            if (line.Length > 0)
            {
                yield return (line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), lineNumber);
            }
        }
    }
}
