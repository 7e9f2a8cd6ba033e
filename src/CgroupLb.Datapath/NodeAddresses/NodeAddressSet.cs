using System.Net;
using System.Net.Sockets;
using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.NodeAddresses;

/// <summary>
/// The pure part of the node-address sync: which addresses lb4_node_addrs/lb6_node_addrs should hold, and the writes
/// that take the maps from one set to another.
/// </summary>
internal static class NodeAddressSet
{
    /// <summary>
    /// This host's interface addresses and the Node objects' addresses that may carry a NodePort: never loopback or
    /// unspecified (the programs decide those by the socket's namespace), multicast, v4-mapped, or IPv6 link-local
    /// (scoped to one link, so not an address of the node), and only what <paramref name="filter"/> admits.
    /// </summary>
    public static Dictionary<IPAddress, LbNodeAddrFlags> Desired(
        IEnumerable<IPAddress> local, IEnumerable<IPAddress> cluster, NodePortAddresses filter)
    {
        var clusterSet = cluster.Select(Normalize).Where(IsEligible).ToHashSet();
        var desired = new Dictionary<IPAddress, LbNodeAddrFlags>();
        foreach (var address in local.Select(Normalize).Where(IsEligible))
        {
            if (filter.PrimaryOnly && !clusterSet.Contains(address))
                continue;
            if (filter.ContainsAddress(address))
                desired[address] = LbNodeAddrFlags.Local;
        }
        foreach (var address in clusterSet)
        {
            if (filter.ContainsAddress(address))
                desired[address] = desired.GetValueOrDefault(address) | LbNodeAddrFlags.Remote;
        }
        return desired;
    }

    /// <summary>The writes from <paramref name="current"/> to <paramref name="desired"/>: new or changed entries, then stale ones.</summary>
    public static (List<KeyValuePair<IPAddress, LbNodeAddrFlags>> Upserts, List<IPAddress> Deletes) Diff(
        IReadOnlyDictionary<IPAddress, LbNodeAddrFlags> current, IReadOnlyDictionary<IPAddress, LbNodeAddrFlags> desired)
    {
        var upserts = desired.Where(kv => !current.TryGetValue(kv.Key, out var flags) || flags != kv.Value)
            .OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal).ToList();
        var deletes = current.Keys.Where(a => !desired.ContainsKey(a)).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToList();
        return (upserts, deletes);
    }

    public static bool IsEligible(IPAddress address) =>
        address.AddressFamily switch
        {
            AddressFamily.InterNetwork => !IPAddress.IsLoopback(address) && !address.Equals(IPAddress.Any)
                && (address.GetAddressBytes()[0] & 0xf0) != 0xe0 && !address.Equals(IPAddress.Broadcast),
            AddressFamily.InterNetworkV6 => !IPAddress.IsLoopback(address) && !address.Equals(IPAddress.IPv6Any)
                && !address.IsIPv6LinkLocal && !address.IsIPv6Multicast && !address.IsIPv4MappedToIPv6,
            _ => false,
        };

    // An address from the API may carry a scope id (never meaningful here) and equal addresses must compare equal.
    private static IPAddress Normalize(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;
}
