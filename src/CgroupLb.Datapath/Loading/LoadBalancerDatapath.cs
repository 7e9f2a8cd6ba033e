using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.NodeAddresses;
using CgroupLb.Datapath.Status;
using CgroupLb.Datapath.Writing;
using CgroupLb.Interop;
using CgroupLb.Model.LoadBalancing;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// The socket load balancer in the kernel: programs attached to one cgroup through pinned links, and pinned maps.
/// <see cref="Attach"/> runs the loader in phases (preflight, probe, then adopt or open/configure/load/attach/pin);
/// a failing phase undoes what that call created and throws a <see cref="DatapathException"/> naming the phase.
/// Disposing closes this process's handles only: pinned links keep the programs attached and traffic flowing until
/// <see cref="Detach"/>. Omitting Dispose leaks file descriptors until the process exits.
/// </summary>
/// <remarks>
/// An attached data path also holds an fd on each attached program, so <see cref="CheckAttachments"/> can attach it
/// again when its attachment disappears, and, after adopting an older build's programs, this build's programs until
/// <see cref="CompleteUpgrade"/> swaps them in.
/// </remarks>
public sealed class LoadBalancerDatapath : IDisposable
{
    private readonly KernelLoadBalancerMaps maps;
    private readonly BpfMapWriter? writer;
    private readonly object attachGate = new();
    private readonly ProgramAttachments? attachments; // null for a status-only view
    private readonly SkipNetnsMap? skipNetns; // null for a status-only view
    private ProgramUpgrade? upgrade;

    /// <summary>
    /// <paramref name="logger"/> null: a read-only view. No writer exists then, so nothing can write or delete an entry
    /// (a writer's reload deletes leftovers, which is the owning agent's call alone).
    /// </summary>
    private LoadBalancerDatapath(PinnedMaps pinned, DatapathFeatures? features, bool adopted, ILogger? logger,
        ProgramAttachments? attachments = null, ProgramUpgrade? upgrade = null, SkipNetnsMap? skipNetns = null, int? writeThreads = null)
    {
        maps = new KernelLoadBalancerMaps(pinned);
        this.skipNetns = skipNetns;
        if (logger is not null)
        {
            // Only the owning agent: a read-only view never writes.
            int invalidated = maps.InvalidateReusedTranslations();
            if (invalidated > 0)
                logger.LogDebug("Moved the reuse generation of {Count} service ids on (lb_svc_gen): no socket reuses a translation from before this agent", invalidated);
            writer = new BpfMapWriter(maps, logger, ipv6: features?.IPv6 ?? true,
                writeThreads is { } threads ? WriteParallelism.For(threads) : WriteParallelism.Auto);
        }
        this.attachments = attachments;
        this.upgrade = upgrade is { IsEmpty: false } ? upgrade : null;
        if (upgrade is { IsEmpty: true })
            upgrade.Dispose();
        Features = features;
        Adopted = adopted;
    }

    /// <summary>The owning agent's writer. A view opened with <see cref="OpenPinned"/> has none and throws.</summary>
    public ILoadBalancerWriter Writer =>
        writer ?? throw new InvalidOperationException("this data path was opened read-only (OpenPinned); only the agent that attached it writes the maps");

    /// <summary>
    /// The owning agent's NodePort node-address sync (lb4_node_addrs/lb6_node_addrs), which shares the frontend filter
    /// with <see cref="Writer"/>. Create one per data path; a view opened with <see cref="OpenPinned"/> throws.
    /// </summary>
    public NodeAddressSync CreateNodeAddressSync(NodePortAddresses filter, ILogger logger) =>
        writer is null
            ? throw new InvalidOperationException("this data path was opened read-only (OpenPinned); only the agent that attached it writes the maps")
            : new NodeAddressSync(maps, filter, logger);

    /// <summary>Probed kernel features; null for a status-only view opened with <see cref="OpenPinned"/>.</summary>
    public DatapathFeatures? Features { get; }

    /// <summary>True when the programs and maps were already pinned and were adopted instead of loaded again.</summary>
    public bool Adopted { get; }

    /// <summary>
    /// True while adopted programs differ from this build's (another tag, or an older ABI's maps) or maps of an older
    /// ABI are still pinned: <see cref="CompleteUpgrade"/> finishes the switch once a full sync has filled the maps.
    /// </summary>
    public bool HasPendingUpgrade
    {
        get { lock (attachGate) return upgrade is not null; }
    }

    /// <summary>The checks <see cref="Attach"/> starts with (root, libbpf, cgroup v2, bpffs), to run before taking the lock.</summary>
    public static void CheckPreflight(DatapathOptions options) => Preflight.CheckAttach(options);

    /// <summary>
    /// Attaches (or adopts) the data path. The caller holds the <see cref="PinDirectoryLock"/> of the bpffs directory.
    /// Adoption loads this build's programs too and compares them with the pinned ones (see <see cref="ProgramUpgrade"/>).
    /// </summary>
    public static LoadBalancerDatapath Attach(DatapathOptions options, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("CgroupLb.Datapath");
        Preflight.CheckAttach(options);
        LibbpfLog.Install(loggerFactory.CreateLogger("libbpf"));
        var features = DatapathFeatures.Probe();
        if (!features.CgroupSockAddrPrograms)
            throw new DatapathException("probe", "this kernel has no cgroup sock_addr BPF programs (needs Linux 5.10 or newer with CONFIG_CGROUP_BPF)");
        if (!features.IPv6)
            logger.LogWarning("IPv6 is disabled on this node (no AF_INET6 sockets): IPv6 frontends are not programmed, only listed as refused in status");

        Directory.CreateDirectory(options.LinksPath);
        var pinnedPrograms = PinnedLinks.Present(options);
        if (pinnedPrograms.Count > 0)
        {
            PinnedLinks.CheckAttachedTo(options, pinnedPrograms);
            ProgramUpgrade plannedUpgrade;
            using (var loaded = ObjectLoader.Load(options, features, logger))
            {
                try
                {
                    plannedUpgrade = ProgramUpgrade.Plan(options, loaded, pinnedPrograms);
                }
                catch (Exception e) when (e is BpfException or IOException)
                {
                    loaded.RemoveCreatedMapPins();
                    throw new DatapathException("adopt", $"cannot compare the pinned programs under {options.BpffsPath} with this build's: {e.Message}", e);
                }
                // Hooks the previous agent did not have (an older build without IPv6, or a crash between two attaches):
                // attached now, next to the adopted links, which keep translating throughout. Detaching everything to
                // start over would leave the node untranslated in between.
                var missing = ProgramCatalog.All.Except(pinnedPrograms).ToList();
                if (missing.Count > 0)
                {
                    try
                    {
                        ObjectLoader.AttachMissing(options, loaded, missing, logger);
                    }
                    catch
                    {
                        plannedUpgrade.Dispose();
                        throw;
                    }
                }
                features = loaded.Features;
            }
            if (plannedUpgrade.Reasons.Count > 0)
                logger.LogInformation("Adopted programs under {Path} differ from this build's ({Reasons}); they are swapped in place after the first full sync",
                    options.BpffsPath, string.Join("; ", plannedUpgrade.Reasons.Select(r => $"{r.Key}: {r.Value}")));
            logger.LogInformation("Adopted pinned programs and maps under {Path}", options.BpffsPath);
            return Create(options, features, adopted: true, logger, plannedUpgrade);
        }

        features = ObjectLoader.LoadAndAttach(options, features, logger);
        return Create(options, features, adopted: false, logger, ProgramUpgrade.StaleMapPinsOnly(options));
    }

    private static LoadBalancerDatapath Create(DatapathOptions options, DatapathFeatures features, bool adopted, ILogger logger, ProgramUpgrade upgrade)
    {
        ProgramAttachments? attachments = null;
        PinnedMaps? pinned = null;
        BpfMapHandle? skipNetns = null;
        try
        {
            attachments = ProgramAttachments.Open(options);
            pinned = PinnedMaps.Open(options);
            skipNetns = BpfMapHandle.OpenPinned(options.MapPinPath(MapNames.SkipNetns));
            return new LoadBalancerDatapath(pinned, features, adopted, logger, attachments, upgrade, new SkipNetnsMap(skipNetns, options.NetnsExclusion),
                options.MapWriteThreads);
        }
        catch
        {
            skipNetns?.Dispose();
            pinned?.Dispose();
            attachments?.Dispose();
            upgrade.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Swaps adopted links to this build's programs and removes the pins of maps no program uses any more (see
    /// <see cref="ProgramUpgrade"/>). Call after the first full sync wrote every map this build's programs read.
    /// Does nothing when nothing is pending.
    /// </summary>
    public void CompleteUpgrade(ILogger logger)
    {
        lock (attachGate)
        {
            if (upgrade is null || attachments is null)
                return;
            upgrade.Complete(attachments, logger);
            upgrade.Dispose();
            upgrade = null;
        }
    }

    /// <summary>
    /// Makes lb_skip_netns hold exactly <paramref name="cookies"/>: the network namespaces whose sockets the programs
    /// leave alone (--exclude-netns). Only the owning agent calls this; returns how many were added and removed. Programs
    /// loaded without <see cref="DatapathOptions.NetnsExclusion"/> never read the map: they take only the empty set,
    /// which clears what a run with exclusions left behind.
    /// </summary>
    public (int Added, int Removed) SetExcludedNetns(IReadOnlySet<ulong> cookies) =>
        (skipNetns ?? throw new InvalidOperationException("this data path was opened read-only (OpenPinned); only the agent that attached it writes the maps"))
            .Apply(cookies);

    /// <summary>
    /// Checks that every program still runs on the cgroup through its pinned link, and attaches again what does not
    /// (a link pin removed by hand, a recreated cgroup). Returns what was found and what could not be repaired.
    /// </summary>
    public AttachmentCheck CheckAttachments(ILogger logger)
    {
        lock (attachGate)
        {
            if (attachments is null)
                return new AttachmentCheck([], []);
            var found = attachments.Check();
            return new AttachmentCheck(found, attachments.Repair(found, logger));
        }
    }

    /// <summary>
    /// Opens the pinned maps only, to read them (cgroup-lb status). Attaches nothing, builds no writer, and never
    /// writes or deletes an entry, so it is safe while the agent is mid-update.
    /// </summary>
    public static LoadBalancerDatapath OpenPinned(string bpffsPath)
    {
        var options = new DatapathOptions("", bpffsPath);
        Preflight.CheckPinnedState(options);
        return new LoadBalancerDatapath(PinnedMaps.Open(options), null, adopted: true, logger: null);
    }

    /// <summary>Detaches the programs (through their pinned links) and removes every pin under the bpffs directory.</summary>
    public static void Detach(DatapathOptions options, ILogger logger)
    {
        Preflight.CheckPrivileges();
        int links = PinnedLinks.DetachAll(options, logger);
        int pins = 0;
        foreach (var name in MapNames.All)
        {
            string path = options.MapPinPath(name);
            if (File.Exists(path))
            {
                File.Delete(path);
                pins++;
            }
        }
        foreach (var path in ProgramUpgrade.FindStaleMapPins(options))
        {
            File.Delete(path); // an older ABI's maps that an upgrade did not get to remove
            pins++;
        }
        TryRemoveDirectory(options.LinksPath);
        TryRemoveDirectory(options.BpffsPath);
        logger.LogInformation("Detached {Links} programs and removed {Pins} map pins under {Path}", links, pins, options.BpffsPath);
    }

    /// <summary>
    /// Reads what the maps hold now, through the read-only decoder. Without <paramref name="withCounters"/> the per-CPU
    /// stats map is not read (one lookup per Service) and every frontend's counters are zero.
    /// </summary>
    public DatapathStatus ReadStatus(bool withCounters = true) => StatusReader.Read(maps, withCounters, nodeAddresses: maps);

    private static void TryRemoveDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any())
                Directory.Delete(path);
        }
        catch (IOException)
        {
            // Someone else pinned something here; leaving the directory is the safe choice.
        }
    }

    public void Dispose()
    {
        lock (attachGate)
        {
            upgrade?.Dispose();
            upgrade = null;
            attachments?.Dispose();
        }
        skipNetns?.Dispose();
        maps.Dispose();
    }
}

/// <summary>The outcome of <see cref="LoadBalancerDatapath.CheckAttachments"/>: every problem found, and those still unrepaired.</summary>
public sealed record AttachmentCheck(IReadOnlyList<AttachmentProblem> Found, IReadOnlyList<AttachmentProblem> Unrepaired)
{
    public bool Healthy => Unrepaired.Count == 0;
}
