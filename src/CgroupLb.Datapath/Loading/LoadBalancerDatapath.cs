using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
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
public sealed class LoadBalancerDatapath : IDisposable
{
    private readonly KernelLoadBalancerMaps maps;
    private readonly BpfMapWriter? writer;

    /// <summary>
    /// <paramref name="logger"/> null: a read-only view. No writer exists then, so nothing can write or delete an entry
    /// (a writer's reload deletes leftovers, which is the owning agent's call alone).
    /// </summary>
    private LoadBalancerDatapath(PinnedMaps pinned, DatapathFeatures? features, bool adopted, ILogger? logger)
    {
        maps = new KernelLoadBalancerMaps(pinned);
        if (logger is not null)
            writer = new BpfMapWriter(maps, logger);
        Features = features;
        Adopted = adopted;
    }

    /// <summary>The owning agent's writer. A view opened with <see cref="OpenPinned"/> has none and throws.</summary>
    public ILoadBalancerWriter Writer =>
        writer ?? throw new InvalidOperationException("this data path was opened read-only (OpenPinned); only the agent that attached it writes the maps");

    /// <summary>Probed kernel features; null for a status-only view opened with <see cref="OpenPinned"/>.</summary>
    public DatapathFeatures? Features { get; }

    /// <summary>True when the programs and maps were already pinned and were adopted instead of loaded again.</summary>
    public bool Adopted { get; }

    public static LoadBalancerDatapath Attach(DatapathOptions options, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("CgroupLb.Datapath");
        Preflight.CheckAttach(options);
        LibbpfLog.Install(loggerFactory.CreateLogger("libbpf"));
        var features = DatapathFeatures.Probe();
        if (!features.CgroupSockAddrPrograms)
            throw new DatapathException("probe", "this kernel has no cgroup sock_addr BPF programs (needs Linux 5.10 or newer with CONFIG_CGROUP_BPF)");

        Directory.CreateDirectory(options.LinksPath);
        if (PinnedLinks.AllPresent(options) && PinnedMaps.AllPresent(options))
        {
            PinnedLinks.CheckAttachedTo(options);
            var adopted = PinnedMaps.Open(options);
            logger.LogInformation("Adopted pinned programs and maps under {Path}", options.BpffsPath);
            return new LoadBalancerDatapath(adopted, features, adopted: true, logger);
        }

        features = ObjectLoader.LoadAndAttach(options, features, logger);
        return new LoadBalancerDatapath(PinnedMaps.Open(options), features, adopted: false, logger);
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
        TryRemoveDirectory(options.LinksPath);
        TryRemoveDirectory(options.BpffsPath);
        logger.LogInformation("Detached {Links} programs and removed {Pins} map pins under {Path}", links, pins, options.BpffsPath);
    }

    /// <summary>Reads what the maps hold now, through the read-only decoder.</summary>
    public DatapathStatus ReadStatus() => StatusReader.Read(maps);

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

    public void Dispose() => maps.Dispose();
}
