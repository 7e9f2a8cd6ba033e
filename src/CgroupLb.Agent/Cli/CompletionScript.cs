using System.CommandLine;
using System.CommandLine.Completions;
using System.Text;

namespace CgroupLb.Agent.Cli;

/// <summary>
/// `cgroup-lb completion bash|zsh`: a static script written from the command tree itself, so it lists exactly the
/// commands, options and fixed values this build has. The script never calls cgroup-lb back and needs nothing but the
/// shell (no bash-completion package, no dotnet-suggest). Options with a fixed set of values complete those values,
/// path options complete file names, and the rest (durations, addresses, names) complete nothing.
/// </summary>
internal static class CompletionScript
{
    public const string FunctionName = "_cgroup_lb";

    private static readonly HashSet<string> PathOptions = ["--source", "--kubeconfig", "--cgroup", "--bpffs"];

    public static string Bash(RootCommand root, string program = "cgroup-lb")
    {
        var s = new StringBuilder();
        s.Append($"# {program} bash completion; load with: source <({program} completion bash)\n");
        s.Append($"{FunctionName}() {{\n");
        s.Append("    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" cmd=\"\" i\n");
        s.Append("    COMPREPLY=()\n");
        s.Append("    for ((i = 1; i < COMP_CWORD; i++)); do\n");
        s.Append("        case \"${COMP_WORDS[i]}\" in\n");
        s.Append($"            {string.Join("|", Commands(root).Select(c => c.Name))}) cmd=\"${{COMP_WORDS[i]}}\"; break ;;\n");
        s.Append("        esac\n");
        s.Append("    done\n");
        s.Append("    case \"$cmd\" in\n");
        s.Append($"    \"\") COMPREPLY=($(compgen -W \"{string.Join(" ", Commands(root).Select(c => c.Name).Concat(Words(root)))}\" -- \"$cur\")) ;;\n");
        foreach (var command in Commands(root))
        {
            s.Append($"    {command.Name})\n");
            s.Append("        case \"$prev\" in\n");
            foreach (var option in ValueOptions(command))
            {
                string names = string.Join("|", Names(option));
                string[] values = FixedValues(option);
                s.Append(values.Length > 0
                    ? $"        {names}) COMPREPLY=($(compgen -W \"{string.Join(" ", values)}\" -- \"$cur\")); return ;;\n"
                    : PathOptions.Contains(option.Name)
                        ? $"        {names}) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
                        : $"        {names}) return ;;\n");
            }
            s.Append("        esac\n");
            s.Append($"        COMPREPLY=($(compgen -W \"{string.Join(" ", Words(command))}\" -- \"$cur\")) ;;\n");
        }
        s.Append("    esac\n");
        s.Append("}\n");
        s.Append($"complete -o default -F {FunctionName} {program}\n");
        return s.ToString();
    }

    public static string Zsh(RootCommand root, string program = "cgroup-lb")
    {
        var s = new StringBuilder();
        s.Append($"#compdef {program}\n");
        s.Append($"# {program} zsh completion; load with: source <({program} completion zsh), or save as _{program.Replace('-', '_')} in $fpath\n");
        s.Append($"{FunctionName}() {{\n");
        s.Append("    local -a commands\n");
        s.Append("    commands=(\n");
        foreach (var command in Commands(root))
            s.Append($"        {Quote($"{command.Name}:{Describe(command.Description)}")}\n");
        s.Append("    )\n");
        s.Append("    if (( CURRENT == 2 )); then\n");
        s.Append("        _describe 'command' commands\n");
        s.Append("        return\n");
        s.Append("    fi\n");
        s.Append("    case ${words[2]} in\n");
        foreach (var command in Commands(root))
        {
            s.Append($"    {command.Name})\n");
            s.Append("        _arguments -s");
            foreach (var option in command.Options.Where(o => !o.Hidden))
            {
                string help = Describe(option.Description).Replace(":", "\\:", StringComparison.Ordinal);
                string action = !TakesValue(option) ? ""
                    : FixedValues(option) is { Length: > 0 } values ? $":value:({string.Join(" ", values)})"
                    : PathOptions.Contains(option.Name) ? ":path:_files"
                    : ":value: ";
                string exclusive = Names(option).Count() > 1 ? $"({string.Join(" ", Names(option))})" : "";
                foreach (var name in Names(option))
                    s.Append(" \\\n            ").Append(Quote($"{exclusive}{name}[{help}]{action}"));
            }
            foreach (var argument in command.Arguments.Where(a => !a.Hidden))
            {
                string[] values = FixedValues(argument);
                s.Append(" \\\n            ").Append(Quote(values.Length > 0 ? $":{argument.Name}:({string.Join(" ", values)})" : $":{argument.Name}:_files"));
            }
            s.Append('\n');
            s.Append("        ;;\n");
        }
        s.Append("    esac\n");
        s.Append("}\n");
        s.Append($"if [[ \"${{funcstack[1]}}\" == \"{FunctionName}\" ]]; then\n");
        s.Append($"    {FunctionName} \"$@\"\n");
        s.Append("else\n");
        s.Append($"    compdef {FunctionName} {program}\n");
        s.Append("fi\n");
        return s.ToString();
    }

    private static IEnumerable<Command> Commands(Command root) => root.Subcommands.Where(c => !c.Hidden);

    /// <summary>What may follow a command word: its options, and its arguments' fixed values.</summary>
    private static IEnumerable<string> Words(Command command) =>
        command.Options.Where(o => !o.Hidden).SelectMany(Names)
            .Concat(command.Arguments.Where(a => !a.Hidden).SelectMany(FixedValues))
            .Distinct();

    private static IEnumerable<Option> ValueOptions(Command command) => command.Options.Where(o => !o.Hidden && TakesValue(o));

    /// <summary>The option's spellings a shell can complete: "--output" and "-o", not "/?" or "-?".</summary>
    private static IEnumerable<string> Names(Option option) =>
        new[] { option.Name }.Concat(option.Aliases).Distinct().Where(n => n.StartsWith('-') && n.Skip(1).All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));

    private static bool TakesValue(Option option) => option.ValueType != typeof(bool) && option.Arity.MaximumNumberOfValues > 0;

    private static string[] FixedValues(Symbol symbol) =>
        symbol.GetCompletions(CompletionContext.Empty).Select(c => c.Label)
            .Where(v => v.Length > 0 && v.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')).ToArray();

    private static string Describe(string? description) =>
        (description ?? "").Replace('[', '(').Replace(']', ')').Replace('\n', ' ');

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
