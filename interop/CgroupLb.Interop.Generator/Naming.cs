using System.Text;

namespace CgroupLb.Interop.Generator;

/// <summary>C-to-C# naming rules, kept in one place so regenerated names never drift.</summary>
public static class Naming
{
    private static readonly HashSet<string> Keywords =
    [
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    ];

    /// <summary>
    /// "bpf_object__open_file" becomes "BpfObject_OpenFile": libbpf's "__" separates the object from the method, and
    /// keeping it as "_" stops "bpf_link__fd" and a future "bpf_link_fd" from colliding.
    /// </summary>
    public static string Method(string cName) =>
        string.Join('_', cName.Split("__", StringSplitOptions.RemoveEmptyEntries).Select(Pascal));

    /// <summary>"CGROUP_INET4_CONNECT" or "elem_flags" to "CgroupInet4Connect" / "ElemFlags".</summary>
    public static string Pascal(string snake)
    {
        var builder = new StringBuilder(snake.Length);
        foreach (var segment in snake.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            builder.Append(char.ToUpperInvariant(segment[0]));
            builder.Append(segment[1..].ToLowerInvariant());
        }

        if (builder.Length == 0 || char.IsDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    public static string Parameter(string? cName, int index) =>
        string.IsNullOrEmpty(cName) ? $"arg{index}" : Keywords.Contains(cName) ? "@" + cName : cName;

    public static string XmlEscape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
