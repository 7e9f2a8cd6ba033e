using System.Diagnostics;
using System.Globalization;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// A <c>cglb-testpeer udp-hold|tcp-hold</c> client in the sandbox's client namespace and cgroup: one long-lived socket
/// that a test removes the backend under. The test reads the client's events while it runs, so it acts once the socket
/// has had its first reply and stops the client once it has seen what it waits for, instead of timing a fixed hold:
/// an emulated guest (tests/vm) takes seconds to start a client where a host takes tens of milliseconds, and a hold
/// timed for the host could end there before the removal.
/// </summary>
public sealed class HeldClient : IDisposable
{
    // Only a bound for a test that fails: a healthy test stops the client long before.
    private static readonly TimeSpan MaxHold = SandboxTimeouts.Seconds(60);
    // The peer's deadline for a reply; one second on a host, stretched in emulated guests, where the first reply of a
    // freshly started .NET process took 0.3-0.7 s even on an idle machine.
    private static readonly TimeSpan ReplyTimeout = SandboxTimeouts.Seconds(1);

    private readonly DirectoryInfo _files;
    private readonly Task<CommandResult> _run;

    private HeldClient(DirectoryInfo files, Task<CommandResult> run, string description)
    {
        _files = files;
        _run = run;
        Description = description;
    }

    public string Description { get; }

    private string EventsFile => Path.Combine(_files.FullName, "events");

    private string StopFile => Path.Combine(_files.FullName, "stop");

    /// <summary>Starts <paramref name="command"/> (udp-hold or tcp-hold) towards <paramref name="to"/>.</summary>
    public static HeldClient Start(KernelSandbox sandbox, string command, string to)
    {
        DirectoryInfo files = Directory.CreateTempSubdirectory("cglb-hold-");
        string[] arguments =
        [
            command, "--to", to,
            "--duration-ms", Milliseconds(MaxHold),
            "--timeout-ms", Milliseconds(ReplyTimeout),
            "--events-file", Path.Combine(files.FullName, "events"),
            "--stop-file", Path.Combine(files.FullName, "stop"),
        ];
        return new HeldClient(files, sandbox.RunClientAsync(arguments, ClientPlacement.InCgroup), $"{command} to {to}");
    }

    /// <summary>The events the client has written so far.</summary>
    public HoldRun EventsSoFar()
    {
        if (!File.Exists(EventsFile)) return new HoldRun([]);
        using var stream = new FileStream(EventsFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        string text = new StreamReader(stream).ReadToEnd();
        // Only whole lines: the client may be writing the next one.
        int end = text.LastIndexOf('\n');
        return HoldRun.ParseLines(end < 0 ? [] : text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Waits until the held socket has had its first reply.</summary>
    public Task WaitReadyAsync(TimeSpan within) => WaitForAsync(run => run.Replies.Any(), within, "its first reply");

    /// <summary>Waits until the client's events so far satisfy <paramref name="seen"/>; fails if the client ended or the time passed first.</summary>
    public async Task WaitForAsync(Func<HoldRun, bool> seen, TimeSpan within, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!seen(EventsSoFar()))
        {
            if (_run.IsCompleted)
            {
                CommandResult ended = await _run.ConfigureAwait(false);
                throw new InvalidOperationException($"{Description} ended before {what}:\n{ended.Stdout}");
            }
            if (waited.Elapsed >= within)
                throw new TimeoutException($"{Description}: no {what} within {within}; its events:\n{EventsSoFar()}");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Tells the client to close its socket and exit, and returns what it saw (its stdout, the whole record).</summary>
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
            _run.Wait(SandboxTimeouts.Seconds(5));
        }
        catch (Exception e) when (e is IOException or AggregateException)
        {
            // A client that failed has already failed the test, or will in the assertion that awaits it.
        }
        _files.Delete(recursive: true);
    }

    private static string Milliseconds(TimeSpan time) => ((int)time.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
