using System.Diagnostics;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Runs a program to completion and captures its output. A command that overruns its timeout is killed by its pid
/// (never by name) and reported as a failure, so a hung client cannot hang the test run or keep a cgroup busy.
/// </summary>
public static class HostCommand
{
    public static readonly TimeSpan DefaultTimeout = SandboxTimeouts.Seconds(30);

    public static async Task<CommandResult> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan? timeout = null, Action<Process>? started = null)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            startInfo.ArgumentList.Add(argument);
        string commandLine = Describe(startInfo);

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"could not start '{commandLine}'");
        process.StandardInput.Close();
        started?.Invoke(process);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();

        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync().ConfigureAwait(false);
            throw new TimeoutException(
                $"'{commandLine}' did not finish within {(timeout ?? DefaultTimeout).TotalSeconds:0.#}s and was killed; " +
                $"stderr: {(await stderr.ConfigureAwait(false)).Trim()}");
        }
        return new CommandResult(commandLine, process.ExitCode,
            await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Runs and throws, naming the command and its stderr, unless it exits 0.</summary>
    public static async Task<CommandResult> RunCheckedAsync(string program, params string[] arguments) =>
        (await RunAsync(program, arguments).ConfigureAwait(false)).EnsureSuccess();

    public static string Describe(ProcessStartInfo startInfo) =>
        string.Join(' ', new[] { startInfo.FileName }.Concat(startInfo.ArgumentList.Select(Quote)));

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:,=@".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
