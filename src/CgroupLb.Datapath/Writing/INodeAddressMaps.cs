using System.Net;
using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// lb4_node_addrs and lb6_node_addrs, the node-address set of NodePort (bpf/lib/lb_abi.h). Kept apart from
/// <see cref="ILoadBalancerMaps"/> because another owner writes it (<see cref="NodeAddresses.NodeAddressSync"/>, fed by the host's
/// interfaces and the Node objects, not by the Service plan). The kernel implementation is the same object as the
/// load-balancer maps, since an IPv4 node address needs its lb4_fe_filter bit: set before the address is written,
/// cleared after it is deleted and only if no frontend shares the bit. Safe to call beside the plan writer.
/// </summary>
internal interface INodeAddressMaps : Status.INodeAddressMapReader
{
    /// <summary>Writes (adds or overwrites) these addresses, of either family.</summary>
    void UpdateNodeAddresses(IReadOnlyList<KeyValuePair<IPAddress, LbNodeAddrFlags>> addresses);

    /// <summary>Deletes these addresses; absent ones are fine.</summary>
    void DeleteNodeAddresses(IReadOnlyList<IPAddress> addresses);
}
