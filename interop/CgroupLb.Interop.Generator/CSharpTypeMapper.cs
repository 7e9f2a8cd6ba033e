namespace CgroupLb.Interop.Generator;

/// <summary>Where a C type appears; the same C type maps differently as a parameter, a return value or a field.</summary>
public enum TypeContext
{
    Parameter,
    Return,
    Field,
    FunctionPointerSlot,
}

/// <summary>A C# spelling for a C type plus what the declaration around it has to add.</summary>
/// <param name="Spelling">The C# type ("uint", "nint", "BpfMapBatchOpts*", "string").</param>
/// <param name="IsString">A const char* parameter marshalled as UTF-8; the import needs StringMarshalling.Utf8.</param>
/// <param name="IsBool">A C _Bool parameter or return; needs [MarshalAs(UnmanagedType.U1)].</param>
public sealed record CSharpType(string Spelling, bool IsString = false, bool IsBool = false)
{
    public bool IsPointer => Spelling.EndsWith('*') || Spelling.StartsWith("delegate*", StringComparison.Ordinal);
}

/// <summary>
/// Maps C types to blittable C# types: opaque struct pointers become <c>nint</c>, mirrored structs are passed by
/// pointer, buffers are typed pointers, enums travel as <c>int</c> (libbpf's enums all fit and the C ABI passes
/// them as int), <c>size_t</c> is <c>nuint</c>, and <c>va_list</c> (an array on x86-64, so a pointer when passed)
/// is <c>nint</c>.
/// </summary>
public sealed class CSharpTypeMapper(IReadOnlyDictionary<string, string> typedefs, IReadOnlyDictionary<string, string> mirroredStructs)
{
    private static readonly HashSet<string> VaListNames = ["va_list", "__builtin_va_list", "__gnuc_va_list"];

    private static readonly Dictionary<string, string> Builtins = new()
    {
        ["void"] = "void",
        ["char"] = "byte",
        ["signed char"] = "sbyte",
        ["unsigned char"] = "byte",
        ["short"] = "short",
        ["unsigned short"] = "ushort",
        ["int"] = "int",
        ["unsigned int"] = "uint",
        ["long"] = "nint",
        ["unsigned long"] = "nuint",
        ["long long"] = "long",
        ["unsigned long long"] = "ulong",
        ["float"] = "float",
        ["double"] = "double",
    };

    public CSharpType Map(CType type, TypeContext context)
    {
        if (type is CTypedefType { Name: var vaList } && VaListNames.Contains(vaList))
        {
            return new CSharpType("nint");
        }

        switch (Resolve(type))
        {
            case CBuiltinType { Name: "_Bool" }:
                return context switch
                {
                    TypeContext.Parameter or TypeContext.Return => new CSharpType("bool", IsBool: true),
                    TypeContext.Field => new CSharpType("bool"),
                    _ => new CSharpType("byte"),
                };
            case CBuiltinType { Name: "void" } when context is TypeContext.Return or TypeContext.FunctionPointerSlot:
                return new CSharpType("void");
            case CBuiltinType builtin when builtin.Name != "void" && Builtins.TryGetValue(builtin.Name, out var spelling):
                return new CSharpType(spelling);
            case CTagType { Kind: "enum" }:
                return new CSharpType("int");
            case CTagType { Kind: "struct" } tag when context == TypeContext.Field && mirroredStructs.TryGetValue(tag.Name, out var mirror):
                return new CSharpType(mirror);
            case CPointerType pointer:
                return MapPointer(pointer, context);
            case CFunctionPointerType function:
                var slots = function.Parameters.Select(p => Map(p, TypeContext.FunctionPointerSlot).Spelling)
                    .Append(Map(function.Return, TypeContext.FunctionPointerSlot).Spelling);
                return new CSharpType($"delegate* unmanaged<{string.Join(", ", slots)}>");
            case var other:
                throw new NotSupportedException($"C type {Describe(type)} (resolved {Describe(other)}) has no blittable C# mapping in a {context}");
        }
    }

    /// <summary>Follows typedefs to the underlying type, keeping a const written on the typedef name.</summary>
    public CType Resolve(CType type)
    {
        var isConst = type.IsConst;
        var guard = 0;
        while (type is CTypedefType typedef && !VaListNames.Contains(typedef.Name))
        {
            if (!typedefs.TryGetValue(typedef.Name, out var target) || ++guard > 32)
            {
                throw new NotSupportedException($"typedef '{typedef.Name}' is not declared in the parsed headers");
            }

            type = CTypeParser.Parse(target);
            isConst |= type.IsConst;
        }

        return type with { IsConst = isConst };
    }

    private CSharpType MapPointer(CPointerType pointer, TypeContext context)
    {
        if (pointer.Pointee is CTypedefType { Name: var vaList } && VaListNames.Contains(vaList))
        {
            return new CSharpType("nint*");
        }

        var pointee = Resolve(pointer.Pointee);
        return pointee switch
        {
            // Strings go in as UTF-8 copies; strings coming back are libbpf-owned, so they stay raw pointers.
            CBuiltinType { Name: "char", IsConst: true } when context == TypeContext.Parameter => new CSharpType("string", IsString: true),
            CBuiltinType { Name: "void" } => new CSharpType("void*"),
            CBuiltinType => new CSharpType(Map(pointee, TypeContext.Field).Spelling + "*"),
            CTagType { Kind: "enum" } => new CSharpType("int*"),
            CTagType { Kind: "struct" } tag when mirroredStructs.TryGetValue(tag.Name, out var mirror) => new CSharpType(mirror + "*"),
            CTagType => new CSharpType("nint"),
            CPointerType or CFunctionPointerType => new CSharpType(Map(pointee, TypeContext.Field).Spelling + "*"),
            _ => throw new NotSupportedException($"pointer to {Describe(pointee)} has no blittable C# mapping"),
        };
    }

    private static string Describe(CType type) => type switch
    {
        CBuiltinType b => b.Name,
        CTypedefType t => t.Name,
        CTagType t => $"{t.Kind} {t.Name}",
        CPointerType p => Describe(p.Pointee) + " *",
        CArrayType a => $"{Describe(a.Element)}[{a.Length}]",
        CFunctionPointerType => "function pointer",
        _ => type.ToString(),
    };
}
