using System.Diagnostics;
using System.Globalization;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// A <c>cglb-testpeer udp-hold|tcp-hold</c> client in the sandbox's client namespace and cgroup: one long-lived socket
/// that a test removes the backend under. The test waits for the socket's first reply (<see cref="WaitReadyAsync"/>)
/// before it acts and says when it has seen enough (<see cref="StopAsync"/>), instead of guessing how long a client
/// takes to start: an emulated guest (tests/vm) takes seconds where a host takes tens of milliseconds, and a hold timed
/// for the host ended before the removal there.
/// </summary>
public sealed class HeldClient : IDisposable
{
    // Only a bound for a test that fails: a healthy test stops the client long before.
    private static readonly TimeSpan MaxHold = SandboxTimeouts.Seconds(60);
    // The peer's deadline for a reply; one second on a host, stretched in emulated guests, where the first reply of a
    // freshly started .NET process took 0.3-0.7 s even on an idle machine.
    private static readonly TimeSpan ReplyTimeout = SandboxTimeouts.Seconds(1);

    private readonly DirectoryInfo _signals;
    private readonly Task<CommandResult> _run;

    private HeldClient(DirectoryInfo signals, Task<CommandResult> run, string description)
    {
        _signals = signals;
        _run = run;
        Description = description;
    }

    public string Description { get; }

    private string ReadyFile => Path.Combine(_signals.FullName, "ready");

    private string StopFile => Path.Combine(_signals.FullName, "stop");

    /// <summary>Starts <paramref name="command"/> (udp-hold or tcp-hold) towards <paramref name="to"/>.</summary>
    public static HeldClient Start(KernelSandbox sandbox, string command, string to)
    {
        DirectoryInfo signals = Directory.CreateTempSubdirectory("cglb-hold-");
        string[] arguments =
        [
            command, "--to", to,
            "--duration-ms", Milliseconds(MaxHold),
            "--timeout-ms", Milliseconds(ReplyTimeout),
            "--ready-file", Path.Combine(signals.FullName, "ready"),
            "--stop-file", Path.Combine(signals.FullName, "stop"),
        ];
        return new HeldClient(signals, sandbox.RunClientAsync(arguments, ClientPlacement.InCgroup), $"{command} to {to}");
    }

    /// <summary>Waits until the held socket has had its first reply; fails if the client ended or the time passed first.</summary>
    public async Task WaitReadyAsync(TimeSpan within)
    {
        var waited = Stopwatch.StartNew();
        while (!File.Exists(ReadyFile))
        {
            if (_run.IsCompleted)
            {
                CommandResult ended = await _run.ConfigureAwait(false);
                throw new InvalidOperationException($"{Description} ended before its first reply:\n{ended.Stdout}");
            }
            if (waited.Elapsed >= within)
                throw new TimeoutException($"{Description} had no reply within {within}");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Tells the client to close its socket and exit, and returns what it saw.</summary>
    public async Task<HoldRun> StopAsync()
    {
        await File.WriteAllTextAsync(StopFile, "").ConfigureAwait(false);
        return HoldRun.Parse(await _run.ConfigureAwait(false));
    }

    /// <summary>Stops the client if the test did not (a failed assertion); the sandbox kills it if it is still running.</summary>
    public void Dispose()
    {
        try
        {
            File.WriteAllText(StopFile, "");
        }
        catch (IOException)
        {
            // The signal directory is removed below either way.
        }
        try
        {
            _run.Wait(SandboxTimeouts.Seconds(5));
        }
        catch (AggregateException)
        {
            // A client that failed has already failed the test, or will in the assertion that awaits it.
        }
        _signals.Delete(recursive: true);
    }

    private static string Milliseconds(TimeSpan time) => ((int)time.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
