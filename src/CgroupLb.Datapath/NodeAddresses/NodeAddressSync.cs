using System.Net;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Writing;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.NodeAddresses;

/// <summary>
/// Keeps lb4_node_addrs/lb6_node_addrs (the node-address set of NodePort) equal to what its two inputs say: this
/// host's interface addresses (<see cref="SetLocalAddresses"/>, from <see cref="HostAddressWatcher"/>) and every Node
/// object's InternalIP/ExternalIP (<see cref="SetClusterNodeAddresses"/>), filtered by <see cref="NodePortAddresses"/>.
/// Each change writes the difference: new addresses first, stale ones after. The first sync diffs against what the
/// kernel holds, so a restarted agent removes what its predecessor left. A failed write is logged and leaves the maps
/// as they are; the next change (or <see cref="Resync"/>) reads the kernel again and writes what is still missing.
/// Thread-safe: the inputs come from different threads.
/// </summary>
public sealed class NodeAddressSync
{
    private readonly INodeAddressMaps maps;
    private readonly NodePortAddresses filter;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private IReadOnlyCollection<IPAddress> local = [];
    private IReadOnlyCollection<IPAddress> cluster = [];
    private Dictionary<IPAddress, LbNodeAddrFlags>? written; // null: read the kernel first

    internal NodeAddressSync(INodeAddressMaps maps, NodePortAddresses filter, ILogger logger)
    {
        this.maps = maps;
        this.filter = filter;
        this.logger = logger;
    }

    /// <summary>The --nodeport-addresses filter in force.</summary>
    public NodePortAddresses Filter => filter;

    /// <summary>This host's interface addresses, all of them (the filter is applied here).</summary>
    public bool SetLocalAddresses(IReadOnlyCollection<IPAddress> addresses)
    {
        lock (gate)
        {
            local = [.. addresses];
            return SyncLocked();
        }
    }

    /// <summary>Every Node object's InternalIP and ExternalIP addresses (ClusterState.NodeAddresses), this node's included.</summary>
    public bool SetClusterNodeAddresses(IReadOnlyCollection<IPAddress> addresses)
    {
        lock (gate)
        {
            cluster = [.. addresses];
            return SyncLocked();
        }
    }

    /// <summary>Writes the current inputs again after reading the kernel (for a periodic repair).</summary>
    public bool Resync()
    {
        lock (gate)
        {
            written = null;
            return SyncLocked();
        }
    }

    /// <summary>The addresses last written, for status and tests.</summary>
    public IReadOnlyCollection<IPAddress> Current
    {
        get { lock (gate) return written is null ? [] : [.. written.Keys]; }
    }

    private bool SyncLocked()
    {
        var desired = NodeAddressSet.Desired(local, cluster, filter);
        try
        {
            var current = written ?? new Dictionary<IPAddress, LbNodeAddrFlags>(maps.ReadNodeAddresses());
            var (upserts, deletes) = NodeAddressSet.Diff(current, desired);
            if (upserts.Count > 0)
                maps.UpdateNodeAddresses(upserts);
            if (deletes.Count > 0)
                maps.DeleteNodeAddresses(deletes);
            if (upserts.Count + deletes.Count > 0)
                logger.LogInformation("NodePort node addresses: {Count} ({Added} added, {Removed} removed{Filter})", desired.Count,
                    upserts.Count == 0 ? "none" : string.Join(", ", upserts.Select(kv => kv.Key)),
                    deletes.Count == 0 ? "none" : string.Join(", ", deletes),
                    filter.Text.Length == 0 ? "" : $"; --nodeport-addresses {filter.Text}");
            written = desired;
            return true;
        }
        catch (Exception ex) when (ex is Interop.BpfException or IOException)
        {
            written = null;
            logger.LogWarning(ex, "Writing the NodePort node addresses failed; the maps keep their previous set until the next change");
            return false;
        }
    }
}
