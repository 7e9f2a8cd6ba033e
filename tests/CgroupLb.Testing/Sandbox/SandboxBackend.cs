using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// One backend: a network namespace reached from the client namespace over its own veth /30, running
/// <c>cglb-testpeer serve</c>, which answers with <see cref="Name"/> on every port.
/// </summary>
public sealed class SandboxBackend : IAsyncDisposable
{
    public const ushort TcpPort = 8080;
    public const ushort UdpPort = 8053;
    public const ushort HttpPort = 8081;
    private static readonly TimeSpan ReadyTimeout = SandboxTimeouts.Seconds(30);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);

    private Process? _process;
    private readonly List<string> _stderr = [];

    public SandboxBackend(string sandboxId, int index)
    {
        Index = index;
        Name = "b" + index.ToString(CultureInfo.InvariantCulture);
        Namespace = SandboxNames.BackendNamespace(sandboxId, index);
        Address = IPAddress.Parse($"198.18.{index}.2");
        ClientSideAddress = IPAddress.Parse($"198.18.{index}.1");
        Address6 = IPAddress.Parse($"2001:db8:18:{index:x}::2");
        ClientSideAddress6 = IPAddress.Parse($"2001:db8:18:{index:x}::1");
    }

    /// <summary>The backend's IPv6 address, 2001:db8:18:&lt;index&gt;::2 (only in a sandbox created with IPv6).</summary>
    public IPAddress Address6 { get; }

    /// <summary>The client namespace's end of the veth for IPv6, 2001:db8:18:&lt;index&gt;::1.</summary>
    public IPAddress ClientSideAddress6 { get; }

    public int Index { get; }

    /// <summary>What this backend answers with: b1, b2, ...</summary>
    public string Name { get; }

    public string Namespace { get; }

    /// <summary>The backend's own address, 198.18.&lt;index&gt;.2.</summary>
    public IPAddress Address { get; }

    /// <summary>The client namespace's end of the veth, 198.18.&lt;index&gt;.1.</summary>
    public IPAddress ClientSideAddress { get; }

    /// <summary>The peer's pid while it runs (ip netns exec execs the peer, so it is the peer's own pid).</summary>
    public int? ProcessId => _process?.Id;

    public IPEndPoint TcpEndPoint => new(Address, TcpPort);

    public IPEndPoint UdpEndPoint => new(Address, UdpPort);

    /// <summary>
    /// Starts the peer inside the namespace and waits for "ready". Its stdin stays an open pipe: the peer exits when
    /// it closes, so even a crashed test run leaves no backend behind.
    /// </summary>
    public async Task StartAsync(Action<string> log)
    {
        var startInfo = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "netns", "exec", Namespace }.Concat(TestPeerBinary.Command(
            ["serve", "--name", Name, "--tcp", $"{TcpPort}", "--udp", $"{UdpPort}", "--http", $"{HttpPort}"])))
        {
            startInfo.ArgumentList.Add(argument);
        }
        log($"start backend {Name}: {HostCommand.Describe(startInfo)}");
        _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"backend {Name}: could not start the peer");
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (_stderr) _stderr.Add(e.Data);
        };
        _process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(ReadyTimeout);
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"backend {Name}: peer not ready within {ReadyTimeout.TotalSeconds}s; stderr: {Stderr()}");
        }
        if (line != "ready")
        {
            // Let a crashing peer finish writing stderr, which says why.
            await Task.WhenAny(_process.WaitForExitAsync(), Task.Delay(StopGrace)).ConfigureAwait(false);
            throw new InvalidOperationException($"backend {Name}: peer said '{line}' instead of ready; stderr: {Stderr()}");
        }
    }

    /// <summary>Closes the peer's stdin so it exits on its own; kills it by pid if it does not.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is null)
            return;
        using Process process = _process;
        _process = null;
        if (!process.HasExited)
        {
            try
            {
                process.StandardInput.Close();
                await process.WaitForExitAsync().WaitAsync(StopGrace).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or IOException)
            {
                process.Kill();
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
    }

    private string Stderr()
    {
        lock (_stderr) return string.Join(" | ", _stderr);
    }
}
