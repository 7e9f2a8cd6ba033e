using System.Diagnostics;
using System.Net;
using System.Net.Http;
using CgroupLb.Testing;
using CgroupLb.Testing.Sandbox;
using Xunit.Sdk;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>
/// A running `cgroup-lb run`: its output lines as they arrive (also copied to the test log), its health endpoint,
/// and a graceful stop with SIGTERM. Disposing kills it by its pid if it still runs, so a failed test leaves no agent
/// behind; the sandbox then detaches whatever it left attached.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly Process process;
    private readonly Action<string> log;
    private readonly List<string> stdout = [];
    private readonly List<string> stderr = [];
    private readonly HttpClient http = new() { Timeout = ProbeTimeout };

    private AgentProcess(Process process, int? healthPort, Action<string> log)
    {
        this.process = process;
        this.log = log;
        HealthPort = healthPort;
        Pid = process.Id;
    }

    public int Pid { get; }

    public int? HealthPort { get; }

    public bool HasExited => process.HasExited;

    /// <summary>Log lines so far (the agent logs to stdout).</summary>
    public IReadOnlyList<string> Stdout
    {
        get { lock (stdout) return [.. stdout]; }
    }

    public IReadOnlyList<string> Stderr
    {
        get { lock (stderr) return [.. stderr]; }
    }

    /// <summary>
    /// Starts `cgroup-lb run` with <paramref name="runArguments"/>, its health endpoint on a free loopback port
    /// (or none when <paramref name="withHealth"/> is false).
    /// </summary>
    public static AgentProcess Start(IEnumerable<string> runArguments, Action<string> log, bool withHealth = true) =>
        StartWith(runArguments, log, withHealth ? FreePort.Next() : null);

    /// <summary>
    /// Starts `cgroup-lb run` with <paramref name="runArguments"/> that set the listener flags themselves; the
    /// harness's own health probes are then unavailable.
    /// </summary>
    public static AgentProcess StartWithOwnListeners(IEnumerable<string> runArguments, Action<string> log) =>
        StartWith(runArguments, log, port: null, listenerFlags: false);

    private static AgentProcess StartWith(IEnumerable<string> runArguments, Action<string> log, int? port, bool listenerFlags = true)
    {
        // One loopback port for both listeners: it then serves /healthz, /readyz and /metrics.
        string listen = port is { } p ? $"127.0.0.1:{p}" : "none";
        IReadOnlyList<string> argv = AgentBinary.Command(listenerFlags
            ? ["run", .. runArguments, "--healthz-bind-address", listen, "--metrics-bind-address", listen]
            : ["run", .. runArguments]);
        var startInfo = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in argv.Skip(1))
            startInfo.ArgumentList.Add(argument);
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {HostCommand.Describe(startInfo)}");
        var agent = new AgentProcess(process, port, log);
        log($"agent[{process.Id}] started: {HostCommand.Describe(startInfo)}");
        process.OutputDataReceived += (_, e) => agent.Collect(agent.stdout, e.Data, "");
        process.ErrorDataReceived += (_, e) => agent.Collect(agent.stderr, e.Data, "stderr: ");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return agent;
    }

    private void Collect(List<string> lines, string? line, string tag)
    {
        if (line is null)
            return;
        lock (lines) lines.Add(line);
        log($"agent[{Pid}] {tag}{line}");
    }

    /// <summary>Waits for a log line matching <paramref name="match"/> and returns it; fails early if the agent exits.</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> match, string what, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Eventually.DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (Stdout.FirstOrDefault(match) is { } line)
                return line;
            if (HasExited)
                throw new XunitException($"agent exited ({process.ExitCode}) before logging {what}; {Describe()}");
            if (clock.Elapsed > limit)
                throw new XunitException($"agent did not log {what} within {limit.TotalSeconds:0.#}s; {Describe()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The HTTP status of /readyz, or null while nothing answers.</summary>
    public async Task<HttpStatusCode?> ReadyzAsync()
    {
        try
        {
            using HttpResponseMessage response = await http.GetAsync(Url("/readyz"));
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Eventually.DefaultTimeout;
        var clock = Stopwatch.StartNew();
        HttpStatusCode? last;
        while ((last = await ReadyzAsync()) != HttpStatusCode.OK)
        {
            if (HasExited)
                throw new XunitException($"agent exited ({process.ExitCode}) before /readyz said ready; {Describe()}");
            if (clock.Elapsed > limit)
                throw new XunitException($"/readyz not 200 within {limit.TotalSeconds:0.#}s (last: {last?.ToString() ?? "no answer"}); {Describe()}");
            await Task.Delay(100);
        }
    }

    public async Task<string> MetricsAsync()
    {
        using HttpResponseMessage response = await http.GetAsync(Url("/metrics"));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Sends SIGTERM and returns the exit code; an agent that does not stop in time is killed and the test fails.</summary>
    public async Task<int> TerminateAsync()
    {
        log($"agent[{Pid}]: SIGTERM");
        PosixSignal.Terminate(Pid);
        try
        {
            await process.WaitForExitAsync().WaitAsync(StopTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            throw new XunitException($"agent did not exit within {StopTimeout.TotalSeconds}s of SIGTERM and was killed; {Describe()}");
        }
        log($"agent[{Pid}] exited with {process.ExitCode}");
        return process.ExitCode;
    }

    public string Describe() =>
        $"stderr: [{string.Join(" | ", Stderr)}]; last log lines: [{string.Join(" | ", Stdout.TakeLast(15))}]";

    private Uri Url(string path) =>
        new($"http://127.0.0.1:{HealthPort ?? throw new InvalidOperationException("the agent was started without listeners")}{path}");

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        if (!process.HasExited)
        {
            log($"agent[{Pid}] still running at the end of the test: killing it");
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
