using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// A throwaway world for one kernel test: a child cgroup to attach to, a bpffs directory to pin in, a client network
/// namespace and backend namespaces, each backend behind its own veth /30 (client 198.18.i.1, backend 198.18.i.2)
/// running cglb-testpeer. With ipv6, each veth also carries 2001:db8:18:i::1 and ::2 /64 (nodad: usable at once), and
/// the peers, which listen dual-stack, answer on both. No namespace has a default route, so a service address (198.51.100.0/24) is unreachable
/// unless the load balancer translates it: connect() fails with ENETUNREACH.
/// Client commands join the cgroup first and then enter the client namespace (ip netns exec remounts /sys, so the
/// cgroup file is out of reach afterwards). Disposal undoes everything, also when setup failed halfway.
/// </summary>
public sealed class KernelSandbox : IAsyncDisposable, IDisposable
{
    /// <summary>Upper bound for one client command; a client stuck longer is killed and the test fails.</summary>
    public static readonly TimeSpan ClientTimeout = SandboxTimeouts.Seconds(60);
    private static readonly TimeSpan CgroupDrainTimeout = SandboxTimeouts.Seconds(10);

    private readonly Action<string> _log;
    private readonly List<SandboxBackend> _backends = [];
    private readonly ConcurrentDictionary<int, Process> _runningClients = new();
    private readonly List<string> _namespacesCreated = [];
    private bool _cgroupCreated;
    private bool _bpffsCreated;
    private bool _disposed;

    private KernelSandbox(string id, Action<string> log)
    {
        Id = id;
        _log = log;
    }

    public string Id { get; }

    /// <summary>The child cgroup to attach programs to; clients run inside it.</summary>
    public string CgroupPath => SandboxNames.CgroupPath(Id);

    /// <summary>This sandbox's directory on bpffs, for maps and links.</summary>
    public string BpffsPath => SandboxNames.BpffsPath(Id);

    public string ClientNamespace => SandboxNames.ClientNamespace(Id);

    public IReadOnlyList<SandboxBackend> Backends => _backends;

    public SandboxBackend Backend(string name) =>
        _backends.Single(b => b.Name == name);

    /// <summary>Builds a sandbox with <paramref name="backendCount"/> backends named b1..bN.</summary>
    public static async Task<KernelSandbox> CreateAsync(int backendCount = 3, Action<string>? log = null, bool ipv6 = false)
    {
        if (backendCount is < 1 or > 250)
            throw new ArgumentOutOfRangeException(nameof(backendCount), backendCount, "a sandbox has 1 to 250 backends");
        var sandbox = new KernelSandbox(SandboxNames.NewId(), log ?? (_ => { }));
        try
        {
            await sandbox.BuildAsync(backendCount, ipv6).ConfigureAwait(false);
            return sandbox;
        }
        catch
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task BuildAsync(int backendCount, bool ipv6)
    {
        _log($"sandbox {Id}: cgroup {CgroupPath}, bpffs {BpffsPath}");
        Directory.CreateDirectory(CgroupPath);
        _cgroupCreated = true;
        Directory.CreateDirectory(BpffsPath);
        _bpffsCreated = true;

        await AddNamespaceAsync(ClientNamespace).ConfigureAwait(false);
        for (int i = 1; i <= backendCount; i++)
        {
            var backend = new SandboxBackend(Id, i);
            _backends.Add(backend);
            await AddNamespaceAsync(backend.Namespace).ConfigureAwait(false);
            string clientSide = "vb" + i.ToString(CultureInfo.InvariantCulture);
            // Created inside the client namespace with the peer end placed straight into the backend namespace, so
            // no interface ever appears in the root namespace.
            await Ip("-n", ClientNamespace, "link", "add", clientSide, "type", "veth", "peer", "name", "eth0", "netns", backend.Namespace).ConfigureAwait(false);
            await Ip("-n", ClientNamespace, "addr", "add", $"{backend.ClientSideAddress}/30", "dev", clientSide).ConfigureAwait(false);
            await Ip("-n", ClientNamespace, "link", "set", clientSide, "up").ConfigureAwait(false);
            await Ip("-n", backend.Namespace, "addr", "add", $"{backend.Address}/30", "dev", "eth0").ConfigureAwait(false);
            await Ip("-n", backend.Namespace, "link", "set", "eth0", "up").ConfigureAwait(false);
            if (ipv6)
            {
                await Ip("-n", ClientNamespace, "addr", "add", $"{backend.ClientSideAddress6}/64", "dev", clientSide, "nodad").ConfigureAwait(false);
                await Ip("-n", backend.Namespace, "addr", "add", $"{backend.Address6}/64", "dev", "eth0", "nodad").ConfigureAwait(false);
            }
        }
        await Task.WhenAll(_backends.Select(b => b.StartAsync(_log))).ConfigureAwait(false);
    }

    private async Task AddNamespaceAsync(string name)
    {
        await Ip("netns", "add", name).ConfigureAwait(false);
        _namespacesCreated.Add(name);
        await Ip("-n", name, "link", "set", "lo", "up").ConfigureAwait(false);
    }

    private static Task<CommandResult> Ip(params string[] arguments) => HostCommand.RunCheckedAsync("ip", arguments);

    /// <summary>
    /// Adds a second client network namespace (another pod, as far as a netns cookie can tell) and returns its name.
    /// Each backend gets a second veth /30 towards it (its side 198.18.i.6 as eth1, this namespace's 198.18.i.5) and a
    /// host route to the backend's own address over it, so both clients reach every backend at 198.18.i.2. IPv4 only.
    /// </summary>
    public async Task<string> AddSecondClientNamespaceAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string name = SandboxNames.SecondClientNamespace(Id);
        await AddNamespaceAsync(name).ConfigureAwait(false);
        foreach (SandboxBackend backend in _backends)
        {
            string clientSide = "vb" + backend.Index.ToString(CultureInfo.InvariantCulture);
            string clientAddress = $"198.18.{backend.Index}.5";
            await Ip("-n", name, "link", "add", clientSide, "type", "veth", "peer", "name", "eth1", "netns", backend.Namespace).ConfigureAwait(false);
            await Ip("-n", name, "addr", "add", $"{clientAddress}/30", "dev", clientSide).ConfigureAwait(false);
            await Ip("-n", name, "link", "set", clientSide, "up").ConfigureAwait(false);
            await Ip("-n", backend.Namespace, "addr", "add", $"198.18.{backend.Index}.6/30", "dev", "eth1").ConfigureAwait(false);
            await Ip("-n", backend.Namespace, "link", "set", "eth1", "up").ConfigureAwait(false);
            await Ip("-n", name, "route", "add", $"{backend.Address}/32", "dev", clientSide, "src", clientAddress).ConfigureAwait(false);
        }
        return name;
    }

    /// <summary>N TCP connects from the client namespace; one attempt per connect.</summary>
    public async Task<IReadOnlyList<PeerAttempt>> TcpConnectAsync(IPEndPoint to, int count = 1, ClientPlacement placement = ClientPlacement.InCgroup) =>
        PeerAttempt.ParseLines(await RunClientAsync(["tcp-connect", "--to", to.ToString(), "--count", Count(count)], placement).ConfigureAwait(false));

    /// <summary>N unconnected UDP exchanges (sendto + recvfrom), each from a fresh socket.</summary>
    public async Task<IReadOnlyList<PeerAttempt>> UdpSendToAsync(IPEndPoint to, int count = 1, ClientPlacement placement = ClientPlacement.InCgroup) =>
        PeerAttempt.ParseLines(await RunClientAsync(["udp-sendto", "--to", to.ToString(), "--count", Count(count)], placement).ConfigureAwait(false));

    /// <summary>N connected UDP exchanges (connect + send + recvfrom), each from a fresh socket.</summary>
    public async Task<IReadOnlyList<PeerAttempt>> UdpConnectedAsync(IPEndPoint to, int count = 1, ClientPlacement placement = ClientPlacement.InCgroup) =>
        PeerAttempt.ParseLines(await RunClientAsync(["udp-connected", "--to", to.ToString(), "--count", Count(count)], placement).ConfigureAwait(false));

    /// <summary>Connects back to back for <paramref name="duration"/>, tracing every attempt.</summary>
    public async Task<TcpLoopRun> TcpLoopAsync(IPEndPoint to, TimeSpan duration) =>
        TcpLoopRun.Parse(await RunClientAsync(
            ["tcp-loop", "--to", to.ToString(), "--duration-ms", Count((int)duration.TotalMilliseconds), "--trace"],
            ClientPlacement.InCgroup).ConfigureAwait(false));

    /// <summary>
    /// N TCP connects from another namespace of this sandbox (a backend's, as a second pod), inside the sandbox cgroup.
    /// A backend namespace routes only to its own /30, so an untranslated connect to a VIP fails with ENETUNREACH. The
    /// peer's 2 s deadline per attempt is stretched in emulated guests (<see cref="SandboxTimeouts"/>).
    /// </summary>
    public async Task<IReadOnlyList<PeerAttempt>> TcpConnectFromAsync(string namespaceName, IPEndPoint to, int count = 1) =>
        PeerAttempt.ParseLines(await RunClientInAsync(
            namespaceName,
            ["tcp-connect", "--to", to.ToString(), "--count", Count(count), "--timeout-ms", Count((int)SandboxTimeouts.Seconds(2).TotalMilliseconds)],
            ClientPlacement.InCgroup).ConfigureAwait(false));

    /// <summary>
    /// Runs cglb-testpeer with <paramref name="peerArguments"/> in the client namespace, inside the sandbox cgroup
    /// unless <paramref name="placement"/> says otherwise. Throws if the peer exits non-zero.
    /// </summary>
    public Task<CommandResult> RunClientAsync(IEnumerable<string> peerArguments, ClientPlacement placement) =>
        RunClientInAsync(ClientNamespace, peerArguments, placement);

    /// <summary>As <see cref="RunClientAsync"/>, in another of this sandbox's client namespaces.</summary>
    public async Task<CommandResult> RunClientInAsync(string clientNamespace, IEnumerable<string> peerArguments, ClientPlacement placement)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        IEnumerable<string> peer = TestPeerBinary.Command(peerArguments);
        string[] argv = placement == ClientPlacement.InCgroup
            // $$ is the shell's pid; exec keeps it, so the peer is the process that joined the cgroup.
            ? ["-c", "echo $$ > \"$1/cgroup.procs\" && shift && exec ip netns exec \"$@\"", "sh", CgroupPath, clientNamespace, .. peer]
            : ["-c", "exec ip netns exec \"$@\"", "sh", clientNamespace, .. peer];
        int pid = 0;
        try
        {
            CommandResult result = await HostCommand.RunAsync("sh", argv, ClientTimeout, started: p =>
            {
                pid = p.Id;
                _runningClients[pid] = p;
            }).ConfigureAwait(false);
            _log($"{result.CommandLine} -> exit {result.ExitCode}, {result.Stdout.Length} bytes");
            return result.EnsureSuccess();
        }
        finally
        {
            _runningClients.TryRemove(pid, out _);
        }
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Undoes everything in reverse: clients, backends, BPF attachments on the cgroup, pins, the cgroup, namespaces.
    /// Every step runs even if an earlier one failed; failures are thrown together at the end so a leak is loud.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        var failures = new List<Exception>();

        foreach (Process client in _runningClients.Values)
            await Step(() => KillAsync(client)).ConfigureAwait(false);
        foreach (SandboxBackend backend in _backends)
            await Step(() => backend.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_cgroupCreated)
        {
            await Step(async () =>
            {
                foreach (string detached in await CgroupAttachments.DetachAllAsync(CgroupPath).ConfigureAwait(false))
                    _log($"sandbox {Id}: detached leftover {detached}");
            }).ConfigureAwait(false);
        }
        if (_bpffsCreated)
            await Step(() => RemoveBpffsDirectory(BpffsPath)).ConfigureAwait(false);
        if (_cgroupCreated)
            await Step(() => RemoveCgroupAsync(CgroupPath, CgroupDrainTimeout)).ConfigureAwait(false);
        foreach (string name in Enumerable.Reverse(_namespacesCreated))
            await Step(() => DeleteNamespaceAsync(name)).ConfigureAwait(false);

        if (failures.Count > 0)
            throw new AggregateException($"sandbox {Id}: cleanup failed", failures);

        async Task Step(Func<Task> step)
        {
            try
            {
                await step().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _log($"sandbox {Id}: cleanup step failed: {e.Message}");
                failures.Add(e);
            }
        }
    }

    private static async Task KillAsync(Process process)
    {
        if (!process.HasExited)
            process.Kill();
        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Unlinks every pin (which drops the pin's reference) and the directory.</summary>
    internal static Task RemoveBpffsDirectory(string path)
    {
        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// rmdir needs an empty cgroup. Clients have exited by now, but their exit is asynchronous to the cgroup's view,
    /// so this waits for cgroup.procs to drain; whatever is still inside after that is ours (the name is unique to
    /// this sandbox) and is killed by pid.
    /// </summary>
    internal static async Task RemoveCgroupAsync(string path, TimeSpan drainTimeout)
    {
        if (!Directory.Exists(path))
            return;
        string procs = Path.Combine(path, "cgroup.procs");
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<int> members;
        while ((members = ReadPids(procs)).Count > 0 && deadline.Elapsed < drainTimeout)
            await Task.Delay(50).ConfigureAwait(false);
        foreach (int pid in members)
        {
            try
            {
                using Process member = Process.GetProcessById(pid);
                member.Kill();
                await member.WaitForExitAsync().ConfigureAwait(false);
            }
            catch (ArgumentException)
            {
                // Exited meanwhile.
            }
        }
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(path);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                // EBUSY while the last member's exit propagates.
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
    }

    private static IReadOnlyList<int> ReadPids(string procsFile) =>
        File.ReadAllLines(procsFile)
            .Where(l => l.Length > 0)
            .Select(l => int.Parse(l, CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>Processes keep a namespace alive after `ip netns del`, so whatever still runs inside is killed first.</summary>
    internal static async Task DeleteNamespaceAsync(string name)
    {
        CommandResult pids = await HostCommand.RunAsync("ip", ["netns", "pids", name]).ConfigureAwait(false);
        foreach (string line in pids.ExitCode == 0 ? pids.StdoutLines() : [])
        {
            try
            {
                using Process member = Process.GetProcessById(int.Parse(line, CultureInfo.InvariantCulture));
                member.Kill();
                await member.WaitForExitAsync().ConfigureAwait(false);
            }
            catch (ArgumentException)
            {
                // Exited meanwhile.
            }
        }
        await Ip("netns", "del", name).ConfigureAwait(false);
    }
}
