using System.Diagnostics;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;
using CgroupLb.Model.Sync;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// Closes sockets that the load balancer connected to a backend which has since left the frontend, so the
/// application notices (ECONNABORTED on its next call), reconnects and is balanced again. Connected UDP always,
/// TCP when <see cref="SocketTerminationOptions.TerminateTcp"/>. Only sockets whose peer is the removed backend and
/// whose reverse entry (socket storage, the claimed entry of lb4_sk_claim or lb6_sk_claim, or the LRU reverse map of its family) says the LB translated them from that frontend are touched: a socket that reached the same
/// address directly, or through another Service that keeps the backend, is left alone.
/// </summary>
/// <remarks>
/// <see cref="Open"/> probes once: the bpf_sock_destroy iterators (Linux 6.5+), else netlink SOCK_DESTROY
/// (CONFIG_INET_DIAG_DESTROY), else nothing; it logs one line saying which. Both close IPv4, IPv6 and v4-mapped
/// sockets. Owns the iterator object and the
/// reverse-map handles until Dispose. Not thread-safe: one caller at a time (<see cref="SocketTerminationQueue"/>).
/// </remarks>
public sealed class SocketTerminator : IDisposable
{
    private readonly SocketTerminationOptions options;
    private readonly BpfMapHandle reverseSockets;
    private readonly BpfMapHandle? socketFrontends;
    private readonly BpfMapHandle? socketClaims;
    private readonly Ipv6Maps maps6;
    private readonly BpfIteratorTerminator? iterators;
    private readonly ILogger logger;
    private bool loggedDenied;

    private SocketTerminator(SocketTerminationOptions options, BpfMapHandle reverseSockets, BpfMapHandle? socketFrontends, BpfMapHandle? socketClaims,
        Ipv6Maps maps6, BpfIteratorTerminator? iterators, SocketTerminationMethod method, ILogger logger)
    {
        this.options = options;
        this.reverseSockets = reverseSockets;
        this.socketFrontends = socketFrontends;
        this.socketClaims = socketClaims;
        this.maps6 = maps6;
        this.iterators = iterators;
        this.logger = logger;
        Method = method;
    }

    public SocketTerminationMethod Method { get; }

    /// <summary>Opens the pinned reverse maps of an attached data path and probes how sockets can be closed here.</summary>
    public static SocketTerminator Open(SocketTerminationOptions options, ILogger logger)
    {
        var datapathOptions = new DatapathOptions(options.CgroupPath, options.BpffsPath);
        var reverse = BpfMapHandle.OpenPinned(datapathOptions.MapPinPath(MapNames.ReverseSockets));
        BpfMapHandle? frontends = null, claims = null;
        var maps6 = new Ipv6Maps();
        try
        {
            // Pinned by every data path since socket storage came in; absent under an older one's pins.
            frontends = OpenIfPinned(datapathOptions, MapNames.SocketFrontends, options.SocketStorage != false);
            claims = OpenIfPinned(datapathOptions, MapNames.SocketClaims, true);
            maps6.Reverse = OpenIfPinned(datapathOptions, MapNames.ReverseSockets6, true);
            maps6.Frontends = OpenIfPinned(datapathOptions, MapNames.SocketFrontends6, options.SocketStorage != false);
            maps6.Claims = OpenIfPinned(datapathOptions, MapNames.SocketClaims6, true);
            return Open(options, reverse, frontends, claims, maps6, logger);
        }
        catch
        {
            maps6.Dispose();
            claims?.Dispose();
            frontends?.Dispose();
            reverse.Dispose();
            throw;
        }
    }

    private static BpfMapHandle? OpenIfPinned(DatapathOptions datapathOptions, string name, bool wanted)
    {
        string pin = datapathOptions.MapPinPath(name);
        return wanted && File.Exists(pin) ? BpfMapHandle.OpenPinned(pin) : null;
    }

    private static SocketTerminator Open(SocketTerminationOptions options, BpfMapHandle reverse, BpfMapHandle? frontends, BpfMapHandle? claims, Ipv6Maps maps6, ILogger logger)
    {
        string protocols = options.TerminateTcp ? "connected UDP and TCP" : "connected UDP";
        string? iteratorFailure = "switched off (ForceNetlink)";
        if (!options.ForceNetlink)
        {
            try
            {
                var iterators = BpfIteratorTerminator.Load(reverse, frontends, claims, maps6.Reverse, maps6.Frontends, maps6.Claims, options.TerminateTcp);
                logger.LogInformation("Socket termination: bpf_sock_destroy iterators close {Protocols} sockets of removed backends", protocols);
                return new SocketTerminator(options, reverse, frontends, claims, maps6, iterators, SocketTerminationMethod.BpfIterator, logger);
            }
            catch (Exception ex) when (ex is BpfException or DatapathException)
            {
                iteratorFailure = $"bpf_sock_destroy unavailable (needs Linux 6.5+; {ex.Message})";
            }
        }

        if (NetlinkTerminator.Probe() is not { } netlinkFailure)
        {
            logger.LogInformation("Socket termination: netlink SOCK_DESTROY closes {Protocols} sockets of removed backends; iterators: {Reason}", protocols, iteratorFailure);
            return new SocketTerminator(options, reverse, frontends, claims, maps6, null, SocketTerminationMethod.Netlink, logger);
        }
        logger.LogWarning("Socket termination unavailable: iterators: {IteratorReason}; netlink: {NetlinkReason} (needs CONFIG_INET_DIAG_DESTROY and CAP_NET_ADMIN). " +
            "Sockets connected to removed backends stay connected", iteratorFailure, netlinkFailure);
        return new SocketTerminator(options, reverse, frontends, claims, maps6, null, SocketTerminationMethod.None, logger);
    }

    /// <summary>
    /// Closes the sockets of <paramref name="removed"/> in every network namespace of the cgroup's processes.
    /// Blocks until done; a namespace that fails is logged and skipped.
    /// </summary>
    public SocketTerminationResult Terminate(IReadOnlyCollection<RemovedBackend> removed)
    {
        if (Method == SocketTerminationMethod.None)
            return SocketTerminationResult.Nothing;
        var targets = TerminationTargets.Of(removed, options.TerminateTcp);
        if (targets.IsEmpty)
            return SocketTerminationResult.Nothing;

        long started = Stopwatch.GetTimestamp();
        var namespaces = CgroupNetworkNamespaces.Find(options.CgroupPath, options.ProcPath, out int denied);
        if (denied > 0 && !loggedDenied)
        {
            loggedDenied = true;
            logger.LogWarning("Socket termination cannot open the network namespace of {Count} processes in {Cgroup} (needs CAP_SYS_PTRACE); their sockets are skipped",
                denied, options.CgroupPath);
        }
        int closed = 0, failed = 0, visited = 0;
        if (iterators is not null)
        {
            foreach (var (chunk, chunk6) in targets.Chunks(iterators.Capacity))
            {
                iterators.SetTargets(chunk, chunk6);
                try
                {
                    (visited, int namespaceFailures) = NamespaceVisitor.Visit(namespaces, options.ProcPath, _ =>
                    {
                        foreach (SockTermEvent e in iterators.RunInCurrentNamespace(options.TerminateTcp))
                        {
                            if (e.Result == 0) closed++;
                            else failed++;
                        }
                    }, logger);
                    failed += namespaceFailures;
                }
                finally
                {
                    iterators.ClearTargets(chunk, chunk6);
                }
            }
        }
        else
        {
            var maps = new NetlinkTerminator.ReverseMaps(reverseSockets, socketFrontends, maps6.Reverse, maps6.Frontends, socketClaims, maps6.Claims);
            (visited, int namespaceFailures) = NamespaceVisitor.Visit(namespaces, options.ProcPath, _ =>
            {
                var owners = new SocketOwners(CgroupNetworkNamespaces.AllProcesses(options.CgroupPath), options.ProcPath);
                var (c, f) = NetlinkTerminator.RunInCurrentNamespace(targets, maps, owners, options.TerminateTcp);
                closed += c;
                failed += f;
            }, logger);
            failed += namespaceFailures;
        }

        var result = new SocketTerminationResult(visited, closed, failed);
        var level = closed > 0 || failed > 0 ? LogLevel.Information : LogLevel.Debug;
        logger.Log(level, "Socket termination ({Method}): closed {Closed} sockets ({Failed} failed) to {Targets} removed backends in {Namespaces} network namespaces in {Duration}",
            Method, closed, failed, targets.Count, visited, Stopwatch.GetElapsedTime(started));
        return result;
    }

    public void Dispose()
    {
        iterators?.Dispose();
        maps6.Dispose();
        socketClaims?.Dispose();
        socketFrontends?.Dispose();
        reverseSockets.Dispose();
    }

    /// <summary>The IPv6 reverse maps, each null when not pinned (or socket storage is off).</summary>
    private sealed class Ipv6Maps : IDisposable
    {
        public BpfMapHandle? Reverse { get; set; }
        public BpfMapHandle? Frontends { get; set; }
        public BpfMapHandle? Claims { get; set; }

        public void Dispose()
        {
            Claims?.Dispose();
            Frontends?.Dispose();
            Reverse?.Dispose();
        }
    }
}
