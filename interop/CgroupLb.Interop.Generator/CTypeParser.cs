using System.Text.RegularExpressions;

namespace CgroupLb.Interop.Generator;

/// <summary>
/// Parses the type spellings clang writes into the JSON AST ("const struct bpf_map *", "char[16]",
/// "int (*)(enum libbpf_print_level, const char *, struct __va_list_tag *)"). Anything outside that
/// small grammar is rejected loudly so a header change cannot silently produce a wrong binding.
/// </summary>
public static partial class CTypeParser
{
    private static readonly HashSet<string> BuiltinWords = ["void", "char", "short", "int", "long", "signed", "unsigned", "_Bool", "bool", "float", "double"];

    public static CType Parse(string spelling)
    {
        var tokens = Tokenize(spelling);
        var position = 0;
        var type = ParseType(tokens, ref position, spelling);
        if (position != tokens.Count)
        {
            throw new NotSupportedException($"unsupported C type spelling '{spelling}' (stopped at '{tokens[position]}')");
        }

        return type;
    }

    /// <summary>Splits a function's type "ret (params)" into the return type spelling.</summary>
    public static string ReturnTypeOfFunction(string functionSpelling)
    {
        var end = functionSpelling.Length - 1;
        if (end < 0 || functionSpelling[end] != ')')
        {
            throw new NotSupportedException($"unsupported function type spelling '{functionSpelling}'");
        }

        var depth = 0;
        for (var i = end; i >= 0; i--)
        {
            if (functionSpelling[i] == ')')
            {
                depth++;
            }
            else if (functionSpelling[i] == '(' && --depth == 0)
            {
                return functionSpelling[..i].Trim();
            }
        }

        throw new NotSupportedException($"unbalanced function type spelling '{functionSpelling}'");
    }

    private static CType ParseType(List<string> tokens, ref int position, string spelling)
    {
        var isConst = false;
        var builtin = new List<string>();
        CType? named = null;
        while (position < tokens.Count)
        {
            var token = tokens[position];
            if (token is "const")
            {
                isConst = true;
            }
            else if (token is "volatile" or "restrict" or "__restrict")
            {
            }
            else if (token is "struct" or "union" or "enum")
            {
                named = new CTagType(token, tokens[position + 1]);
                position++;
            }
            else if (BuiltinWords.Contains(token))
            {
                builtin.Add(token);
            }
            else if (IsIdentifier(token) && named is null && builtin.Count == 0)
            {
                named = new CTypedefType(token);
            }
            else
            {
                break;
            }

            position++;
        }

        CType type = (named, builtin.Count) switch
        {
            (not null, 0) => named,
            (null, > 0) => new CBuiltinType(CanonicalBuiltin(builtin)),
            _ => throw new NotSupportedException($"unsupported C type spelling '{spelling}'"),
        };
        type = type with { IsConst = isConst };

        while (position < tokens.Count && tokens[position] == "*")
        {
            position++;
            var pointerIsConst = false;
            while (position < tokens.Count && tokens[position] is "const" or "volatile" or "restrict" or "__restrict")
            {
                pointerIsConst |= tokens[position] == "const";
                position++;
            }

            type = new CPointerType(type) { IsConst = pointerIsConst };
        }

        if (position + 3 < tokens.Count && tokens[position] == "(" && tokens[position + 1] == "*" && tokens[position + 2] == ")" && tokens[position + 3] == "(")
        {
            position += 4;
            var parameters = new List<CType>();
            while (tokens[position] != ")")
            {
                parameters.Add(ParseType(tokens, ref position, spelling));
                if (tokens[position] == ",")
                {
                    position++;
                }
            }

            position++;
            if (parameters is [CBuiltinType { Name: "void" }])
            {
                parameters.Clear();
            }

            return new CFunctionPointerType(type, parameters);
        }

        if (position + 2 < tokens.Count && tokens[position] == "[" && tokens[position + 2] == "]")
        {
            var length = int.Parse(tokens[position + 1], System.Globalization.CultureInfo.InvariantCulture);
            position += 3;
            return new CArrayType(type, length);
        }

        return type;
    }

    private static string CanonicalBuiltin(List<string> words)
    {
        var unsigned = words.Remove("unsigned");
        var signed = words.Remove("signed");
        words.Remove("int");
        var core = words.Count == 0 ? "int" : string.Join(' ', words);
        if (core == "bool")
        {
            core = "_Bool";
        }

        if (core == "char" && signed)
        {
            return "signed char";
        }

        return unsigned ? "unsigned " + core : core;
    }

    private static bool IsIdentifier(string token) => token.Length > 0 && (char.IsLetter(token[0]) || token[0] == '_');

    private static List<string> Tokenize(string spelling)
    {
        var tokens = new List<string>();
        foreach (Match match in TokenPattern().Matches(spelling))
        {
            tokens.Add(match.Value);
        }

        return tokens;
    }

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[*()\[\],]")]
    private static partial Regex TokenPattern();
}
