using System.Collections.Immutable;
using System.Net;
using CgroupLb.Datapath.NodeAddresses;
using CgroupLb.Model.Sync;

namespace CgroupLb.Agent.Hosting;

/// <summary>Feeds the Node objects' addresses from the syncer into NodePort's node-address maps.</summary>
internal sealed class ClusterNodeAddresses(NodeAddressSync sync) : INodeAddressObserver
{
    // SetClusterNodeAddresses diffs against what it holds, so a full sync with the same Nodes writes nothing.
    public void OnNodeAddresses(ImmutableArray<IPAddress> addresses) => sync.SetClusterNodeAddresses(addresses);
}
