namespace CgroupLb.Interop.Generator;

/// <summary>A C type as clang prints it in a <c>qualType</c> string, parsed just far enough to map it to C#.</summary>
public abstract record CType
{
    /// <summary>True when the type carries a top-level <c>const</c> (for a pointer: the pointee's constness lives on the pointee).</summary>
    public bool IsConst { get; init; }
}

/// <summary>A builtin arithmetic type or <c>void</c>, spelled canonically ("unsigned long", "_Bool").</summary>
public sealed record CBuiltinType(string Name) : CType;

/// <summary>A typedef name, resolved later against the typedefs found in the AST.</summary>
public sealed record CTypedefType(string Name) : CType;

/// <summary><c>struct X</c>, <c>union X</c> or <c>enum X</c>.</summary>
public sealed record CTagType(string Kind, string Name) : CType;

public sealed record CPointerType(CType Pointee) : CType;

public sealed record CArrayType(CType Element, int Length) : CType;

public sealed record CFunctionPointerType(CType Return, IReadOnlyList<CType> Parameters) : CType;
