using System.Collections.Immutable;
using System.Net;

namespace CgroupLb.Model.Sync;

/// <summary>
/// Hears every Node's InternalIP and ExternalIP addresses (<see cref="Services.ClusterState.NodeAddresses"/>) when they
/// changed and on every full sync, before that sync writes its frontends, so NodePort's node-address set follows the
/// Node objects. Called on the syncing thread; implementations must be quick and must not throw.
/// </summary>
public interface INodeAddressObserver
{
    void OnNodeAddresses(ImmutableArray<IPAddress> addresses);
}
