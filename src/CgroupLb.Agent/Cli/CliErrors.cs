using System.CommandLine;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Kubernetes;
using CgroupLb.Manifests;

namespace CgroupLb.Agent.Cli;

/// <summary>
/// Turns the failures an operator can fix into one line on stderr and exit code 1 (2 for a command line that does
/// not parse); anything else is a bug and keeps its stack trace.
/// </summary>
internal static class CliErrors
{
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>
    /// A command line that does not parse gets the same one-line form as any other error, naming the command whose
    /// help to read, instead of System.CommandLine's multi-line message followed by the whole help text on stdout.
    /// </summary>
    public static int ReportUsage(ParseResult parsed)
    {
        string problems = string.Join("; ", parsed.Errors.Select(e => string.Join(' ',
            e.Message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.')));
        string command = parsed.CommandResult.Command is RootCommand ? "cgroup-lb" : $"cgroup-lb {parsed.CommandResult.Command.Name}";
        Console.Error.WriteLine($"cgroup-lb: error: {problems}; see '{command} --help'");
        return Usage;
    }

    public static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            Console.Error.WriteLine($"cgroup-lb: error: {message}");
            return Failure;
        }
    }

    public static string? Describe(Exception ex) => ex switch
    {
        DatapathException d => d.Message,
        ManifestPathNotFoundException m => m.Message,
        KubernetesConfigurationException k => k.Message,
        BpfException b when b.IsPermissionDenied => $"{b.Message}: run as root (or with CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)",
        BpfException b => b.Message,
        DllNotFoundException => "libbpf.so.1 is not installed; install it with 'apt-get install libbpf1'",
        _ => null,
    };
}
