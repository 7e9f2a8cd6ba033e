using System.Net;
using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Status;

/// <summary>The reads of lb4_node_addrs and lb6_node_addrs (NodePort's node-address set): what status may do with them.</summary>
internal interface INodeAddressMapReader
{
    IReadOnlyDictionary<IPAddress, LbNodeAddrFlags> ReadNodeAddresses();

    /// <summary>Entries and capacity of lb4_node_addrs and lb6_node_addrs.</summary>
    IReadOnlyList<MapUsage> NodeAddressUsage();
}
