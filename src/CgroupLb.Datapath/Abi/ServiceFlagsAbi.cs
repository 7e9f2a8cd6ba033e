using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Abi;

/// <summary>
/// Translates the model's <see cref="ServiceFlags"/> to the ABI's <see cref="LbServiceFlags"/> and back, bit by
/// named bit. The model's numbers are its own: renumbering one side must not silently change what the kernel reads.
/// A bit the other side does not know is dropped (the map's reader ignores unknown flags).
/// </summary>
internal static class ServiceFlagsAbi
{
    private static readonly (ServiceFlags Model, LbServiceFlags Abi)[] Pairs =
    [
        (ServiceFlags.ClusterIp, LbServiceFlags.ClusterIp),
        (ServiceFlags.NodePort, LbServiceFlags.NodePort),
        (ServiceFlags.ExternalIp, LbServiceFlags.ExternalIp),
        (ServiceFlags.LoadBalancer, LbServiceFlags.LoadBalancer),
        (ServiceFlags.Affinity, LbServiceFlags.Affinity),
        (ServiceFlags.LocalOnly, LbServiceFlags.LocalOnly),
        (ServiceFlags.HostOnly, LbServiceFlags.HostOnly),
    ];

    public static LbServiceFlags ToAbi(ServiceFlags flags)
    {
        var result = LbServiceFlags.None;
        foreach (var (model, abi) in Pairs)
            if ((flags & model) != 0)
                result |= abi;
        return result;
    }

    public static ServiceFlags ToModel(LbServiceFlags flags)
    {
        var result = ServiceFlags.None;
        foreach (var (model, abi) in Pairs)
            if ((flags & abi) != 0)
                result |= model;
        return result;
    }
}
