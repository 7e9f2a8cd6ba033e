namespace CgroupLb.Testing.Sandbox;

/// <summary>What a finished host command printed and returned.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public CommandResult EnsureSuccess()
    {
        if (ExitCode != 0)
            throw new InvalidOperationException($"'{CommandLine}' exited with {ExitCode}: {Stderr.Trim()}{Stdout.Trim()}");
        return this;
    }

    public IEnumerable<string> StdoutLines() =>
        Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
