using System.Text.Json;

namespace CgroupLb.Interop.Generator;

/// <summary>A top-level declaration from clang's JSON AST, with the header it was written in.</summary>
public sealed record AstDeclaration(string Kind, string Name, string File, JsonElement Node);

/// <summary>
/// The top-level declarations of a translation unit, read from <c>clang -Xclang -ast-dump=json</c>.
/// </summary>
/// <remarks>
/// clang only prints a location's <c>file</c> when it differs from the previously printed location, so the file of
/// a declaration is recovered by replaying every location in document order (skipping <c>includedFrom</c>, which
/// names the includer and does not move clang's "last file" state). For macro-expanded locations clang prints the
/// spelling location before the expansion location, so the state after a declaration's <c>loc</c> is the header
/// the declaration was expanded in.
/// </remarks>
public sealed class ClangAst
{
    private readonly Dictionary<(string Kind, string Name), AstDeclaration> _declarations = [];

    private ClangAst()
    {
    }

    public static ClangAst Parse(JsonDocument document)
    {
        var ast = new ClangAst();
        var lastFile = string.Empty;
        foreach (var node in document.RootElement.GetProperty("inner").EnumerateArray())
        {
            string? declarationFile = null;
            foreach (var property in node.EnumerateObject())
            {
                TrackFiles(property, ref lastFile);
                if (property.NameEquals("loc"))
                {
                    declarationFile = lastFile;
                }
            }

            if (!node.TryGetProperty("name", out var name) || !node.TryGetProperty("kind", out var kind))
            {
                continue;
            }

            var declaration = new AstDeclaration(kind.GetString()!, name.GetString()!, declarationFile ?? lastFile, node);

            // Keep the defining declaration of a record or enum; a forward declaration ("struct bpf_map;") has no body.
            var key = (declaration.Kind, declaration.Name);
            if (!ast._declarations.TryGetValue(key, out var existing) || (!IsDefinition(existing.Node) && IsDefinition(node)))
            {
                ast._declarations[key] = declaration;
            }
        }

        return ast;
    }

    public AstDeclaration? Find(string kind, string name) => _declarations.GetValueOrDefault((kind, name));

    public IEnumerable<AstDeclaration> OfKind(string kind) => _declarations.Values.Where(d => d.Kind == kind);

    private static bool IsDefinition(JsonElement node) =>
        (node.TryGetProperty("completeDefinition", out var complete) && complete.GetBoolean()) || node.TryGetProperty("inner", out _);

    private static void TrackFiles(JsonProperty property, ref string lastFile)
    {
        if (property.NameEquals("includedFrom"))
        {
            return;
        }

        if (property.NameEquals("file") && property.Value.ValueKind == JsonValueKind.String)
        {
            lastFile = property.Value.GetString()!;
            return;
        }

        switch (property.Value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var child in property.Value.EnumerateObject())
                {
                    TrackFiles(child, ref lastFile);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in property.Value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var child in item.EnumerateObject())
                        {
                            TrackFiles(child, ref lastFile);
                        }
                    }
                }

                break;
        }
    }
}
