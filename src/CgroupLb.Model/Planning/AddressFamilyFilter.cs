using System.Collections.Immutable;
using System.Net.Sockets;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Model.Planning;

/// <summary>
/// Keeps the frontends whose address family the data path can program. The model describes dual-stack services
/// completely; the BPF programs attach connect4/sendmsg4 only for now, so the syncer drops IPv6 frontends here.
/// </summary>
public static class AddressFamilyFilter
{
    public static bool IsSupported(Frontend frontend, IReadOnlySet<AddressFamily> families) =>
        families.Contains(frontend.Address.AddressFamily);

    public static IReadOnlyDictionary<Frontend, LoadBalancerService> Keep(
        IReadOnlyDictionary<Frontend, LoadBalancerService> services,
        IReadOnlySet<AddressFamily> families) =>
        services.Keys.All(f => IsSupported(f, families))
            ? services
            : services.Where(kv => IsSupported(kv.Key, families)).ToImmutableDictionary();
}
