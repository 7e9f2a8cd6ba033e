using System.Text;

namespace CgroupLb.Interop.Generator;

/// <summary>One import parameter, already mapped.</summary>
public sealed record ParameterBinding(string Name, string CSpelling, CSharpType Type, bool Nullable);

/// <summary>Everything needed to print one <c>[LibraryImport]</c>.</summary>
public sealed record FunctionBinding(
    string CName,
    string Header,
    string CReturnSpelling,
    CSharpType Return,
    IReadOnlyList<ParameterBinding> Parameters,
    bool SetLastError);

public sealed record FieldBinding(string CName, string CSpelling, int Offset, string CSharpName, string Declaration);

public sealed record StructBinding(string CName, string CSharpName, string Header, int Size, int Alignment, IReadOnlyList<FieldBinding> Fields);

public sealed record EnumMemberBinding(string CName, string CSharpName, long Value);

public sealed record EnumBinding(string CName, string CSharpName, string Header, bool IsPublic, IReadOnlyList<EnumMemberBinding> Members);

/// <summary>LIBBPF_MAJOR_VERSION and LIBBPF_MINOR_VERSION of the headers the bindings come from.</summary>
public sealed record LibbpfHeaderVersion(int Major, int Minor)
{
    public override string ToString() => $"{Major}.{Minor}";
}

/// <summary>Prints bindings as C# source. Output depends only on its input: "\n" line endings, no dates, no paths.</summary>
public sealed class BindingWriter(LibbpfHeaderVersion libbpfVersion)
{
    /// <summary>The file <see cref="WriteHeaderVersion"/> produces.</summary>
    public const string HeaderVersionFile = "Interop.Libbpf.libbpf_version.cs";

    public const string RegenerateCommand = "dotnet run --project interop/CgroupLb.Interop.Generator -- --out interop/CgroupLb.Interop/Generated";

    public string WriteFunction(FunctionBinding function)
    {
        var builder = Header(function.Header);
        builder.Append("using System.Runtime.InteropServices;\n\n");
        OpenInteropLibbpf(builder);

        var cParameters = string.Join(", ", function.Parameters.Select(p => Declarator(p.CSpelling, p.Name.TrimStart('@'))));
        builder.Append($"        /// <summary><c>{Naming.XmlEscape($"{Declarator(function.CReturnSpelling, function.CName)}({cParameters})")}</c></summary>\n");
        if (function.SetLastError)
        {
            builder.Append("        /// <remarks>Failure is a NULL return with errno set; read it with Marshal.GetLastPInvokeError().</remarks>\n");
        }

        var attributeArguments = new List<string> { "Libraries.Libbpf", $"EntryPoint = \"{function.CName}\"" };
        if (function.Parameters.Any(p => p.Type.IsString))
        {
            attributeArguments.Add("StringMarshalling = StringMarshalling.Utf8");
        }

        if (function.SetLastError)
        {
            attributeArguments.Add("SetLastError = true");
        }

        builder.Append($"        [LibraryImport({string.Join(", ", attributeArguments)})]\n");
        if (function.Return.IsBool)
        {
            builder.Append("        [return: MarshalAs(UnmanagedType.U1)]\n");
        }

        var parameters = string.Join(", ", function.Parameters.Select(p =>
            (p.Type.IsBool ? "[MarshalAs(UnmanagedType.U1)] " : string.Empty) + p.Type.Spelling + (p.Nullable ? "?" : string.Empty) + " " + p.Name));
        var isUnsafe = function.Return.IsPointer || function.Parameters.Any(p => p.Type.IsPointer);
        builder.Append($"        internal static {(isUnsafe ? "unsafe " : string.Empty)}partial {function.Return.Spelling} {Naming.Method(function.CName)}({parameters});\n");
        CloseInteropLibbpf(builder);
        return builder.ToString();
    }

    public string WriteStruct(StructBinding record)
    {
        var builder = Header(record.Header);
        builder.Append("using System.Runtime.InteropServices;\n\n");
        OpenInteropLibbpf(builder);
        builder.Append($"        /// <summary>Mirror of <c>struct {record.CName}</c> (sizeof {record.Size}, align {record.Alignment}); offsets from clang's record layout.</summary>\n");
        builder.Append($"        [StructLayout(LayoutKind.Explicit, Size = {record.Size})]\n");
        builder.Append($"        internal unsafe struct {record.CSharpName}\n        {{\n");
        for (var i = 0; i < record.Fields.Count; i++)
        {
            var field = record.Fields[i];
            if (i > 0)
            {
                builder.Append('\n');
            }

            builder.Append($"            /// <summary><c>{Naming.XmlEscape(Declarator(field.CSpelling, field.CName))}</c></summary>\n");
            builder.Append($"            [FieldOffset({field.Offset})]\n");
            builder.Append($"            {field.Declaration}\n");
        }

        builder.Append("        }\n");
        CloseInteropLibbpf(builder);
        return builder.ToString();
    }

    public string WriteEnum(EnumBinding binding)
    {
        var builder = Header(binding.Header);
        builder.Append("namespace CgroupLb.Interop;\n\n");
        builder.Append($"/// <summary>Mirror of <c>enum {binding.CName}</c>.</summary>\n");
        builder.Append($"{(binding.IsPublic ? "public" : "internal")} enum {binding.CSharpName}\n{{\n");
        foreach (var member in binding.Members)
        {
            builder.Append($"    /// <summary><c>{member.CName}</c></summary>\n");
            builder.Append($"    {member.CSharpName} = {member.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)},\n");
        }

        builder.Append("}\n");
        return builder.ToString();
    }

    /// <summary>
    /// The header version as constants, so the loader can refuse a <c>libbpf.so.1</c> older than the declarations it
    /// was generated from (a function or an options field it lacks would fail at the first call, far from the cause).
    /// </summary>
    public string WriteHeaderVersion()
    {
        var builder = Header("bpf/libbpf_version.h");
        OpenInteropLibbpf(builder);
        builder.Append("        /// <summary><c>LIBBPF_MAJOR_VERSION</c> of the headers these bindings were generated from.</summary>\n");
        builder.Append($"        internal const int HeaderMajorVersion = {libbpfVersion.Major.ToString(System.Globalization.CultureInfo.InvariantCulture)};\n\n");
        builder.Append("        /// <summary><c>LIBBPF_MINOR_VERSION</c> of the headers these bindings were generated from.</summary>\n");
        builder.Append($"        internal const int HeaderMinorVersion = {libbpfVersion.Minor.ToString(System.Globalization.CultureInfo.InvariantCulture)};\n");
        CloseInteropLibbpf(builder);
        return builder.ToString();
    }

    // Reads like the header: "const void *keys", "char name[16]".
    private static string Declarator(string cSpelling, string name)
    {
        var bracket = cSpelling.IndexOf('[', StringComparison.Ordinal);
        if (bracket >= 0)
        {
            return $"{cSpelling[..bracket].TrimEnd()} {name}{cSpelling[bracket..]}";
        }

        return cSpelling.EndsWith('*') ? cSpelling + name : $"{cSpelling} {name}";
    }

    private StringBuilder Header(string header)
    {
        var builder = new StringBuilder();
        builder.Append("// <auto-generated>\n");
        builder.Append($"// Generated by CgroupLb.Interop.Generator from <{header}> (libbpf {libbpfVersion}); do not edit.\n");
        builder.Append($"// Regenerate: {RegenerateCommand}\n");
        builder.Append("// </auto-generated>\n\n");
        builder.Append("#nullable enable\n\n");
        return builder;
    }

    private static void OpenInteropLibbpf(StringBuilder builder)
    {
        builder.Append("namespace CgroupLb.Interop;\n\n");
        builder.Append("internal static partial class Interop\n{\n");
        builder.Append("    internal static partial class Libbpf\n    {\n");
    }

    private static void CloseInteropLibbpf(StringBuilder builder) => builder.Append("    }\n}\n");
}
