using System.Net;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.NodeAddresses;

/// <summary>
/// Follows this host's interface addresses over rtnetlink: one dump at start, then RTM_NEWADDR/RTM_DELADDR
/// notifications, and hands every changed set to a callback (<see cref="NodeAddressSync.SetLocalAddresses"/>). It
/// subscribes before it dumps, so no change between the two is lost (the notifications replay over the dump, which is
/// idempotent). An address counts while any interface has it. When the socket fails (or the kernel dropped
/// notifications, ENOBUFS) it logs, keeps the last set it reported, and opens a new socket and dumps again after
/// <c>retryDelay</c>. Runs on its own thread, which may enter another network namespace (tests).
/// </summary>
public sealed class HostAddressWatcher : IDisposable
{
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromMilliseconds(500);

    private readonly Action<IReadOnlyCollection<IPAddress>> onChange;
    private readonly ILogger logger;
    private readonly string? namespacePath;
    private readonly TimeSpan retryDelay;
    private readonly CancellationTokenSource stopping = new();
    private readonly Thread thread;
    private readonly TaskCompletionSource firstSet = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HostAddressWatcher(Action<IReadOnlyCollection<IPAddress>> onChange, ILogger logger, string? namespacePath, TimeSpan retryDelay)
    {
        this.onChange = onChange;
        this.logger = logger;
        this.namespacePath = namespacePath;
        this.retryDelay = retryDelay;
        thread = new Thread(Run) { IsBackground = true, Name = "host-address-watch" };
    }

    /// <summary>
    /// Starts watching the addresses of the agent's network namespace, or of <paramref name="namespacePath"/> (a
    /// /run/netns path) if given.
    /// </summary>
    public static HostAddressWatcher Start(Action<IReadOnlyCollection<IPAddress>> onChange, ILogger logger,
        string? namespacePath = null, TimeSpan? retryDelay = null)
    {
        var watcher = new HostAddressWatcher(onChange, logger, namespacePath, retryDelay ?? TimeSpan.FromSeconds(5));
        watcher.thread.Start();
        return watcher;
    }

    /// <summary>Completes once the first dump was reported (or faults when the namespace cannot be entered).</summary>
    public Task FirstSet => firstSet.Task;

    private void Run()
    {
        try
        {
            if (namespacePath is not null)
            {
                using var ns = NetworkNamespace.Open(namespacePath);
                ns.EnterOnCurrentThread();
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Cannot enter network namespace {Namespace} to watch its addresses", namespacePath);
            firstSet.TrySetException(ex);
            return;
        }

        var token = stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                WatchOnce(token);
            }
            catch (Exception ex) when (ex is BpfException or IOException)
            {
                if (token.IsCancellationRequested)
                    break;
                logger.LogWarning(ex, "Watching this host's addresses over rtnetlink failed; NodePort keeps the last known node addresses and retries in {Delay}", retryDelay);
                token.WaitHandle.WaitOne(retryDelay);
            }
        }
    }

    private void WatchOnce(CancellationToken token)
    {
        using var events = RtnetlinkAddressSocket.Open(subscribe: true, ReceiveTimeout);
        var present = new HashSet<(IPAddress, int)>();
        using (var dump = RtnetlinkAddressSocket.Open(subscribe: false, TimeSpan.FromSeconds(5)))
        {
            foreach (var a in dump.Dump())
                present.Add((a.Address, a.InterfaceIndex));
        }
        var reported = Report(present, null);
        firstSet.TrySetResult();
        while (!token.IsCancellationRequested)
        {
            var changes = events.Receive();
            if (changes.Count == 0)
                continue;
            foreach (var c in changes)
            {
                if (c.Removed)
                    present.Remove((c.Address, c.InterfaceIndex));
                else
                    present.Add((c.Address, c.InterfaceIndex));
            }
            reported = Report(present, reported);
        }
    }

    private HashSet<IPAddress> Report(HashSet<(IPAddress Address, int Index)> present, HashSet<IPAddress>? reported)
    {
        var addresses = present.Select(p => p.Address).ToHashSet();
        if (reported is null || !reported.SetEquals(addresses))
            onChange(addresses);
        return addresses;
    }

    public void Dispose()
    {
        stopping.Cancel();
        if (thread.IsAlive)
            thread.Join(TimeSpan.FromSeconds(5));
        stopping.Dispose();
    }
}
