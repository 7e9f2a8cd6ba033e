using System.Net.Sockets;
using CgroupLb.Datapath.Abi;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// The removed (frontend, backend) pairs as the iterators' map keys, one set per family (sock_term_targets,
/// sock_term_tgts6); TCP pairs only when TCP termination is on. The netlink path asks the same sets per socket.
/// </summary>
internal sealed class TerminationTargets
{
    private readonly HashSet<(uint Address, ushort Port, byte Proto)> backends;
    private readonly HashSet<(Lb6Address Address, ushort Port, byte Proto)> backends6;

    private TerminationTargets(HashSet<SockTermKey> keys, HashSet<SockTerm6Key> keys6)
    {
        Keys = keys;
        Keys6 = keys6;
        backends = keys.Select(k => (k.BackendAddressBe, k.BackendPortBe, k.Proto)).ToHashSet();
        backends6 = keys6.Select(k => (k.BackendAddress, k.BackendPortBe, k.Proto)).ToHashSet();
    }

    public HashSet<SockTermKey> Keys { get; }

    public HashSet<SockTerm6Key> Keys6 { get; }

    public int Count => Keys.Count + Keys6.Count;

    public bool IsEmpty => Count == 0;

    public static TerminationTargets Of(IEnumerable<RemovedBackend> removed, bool includeTcp)
    {
        var keys = new HashSet<SockTermKey>();
        var keys6 = new HashSet<SockTerm6Key>();
        foreach (RemovedBackend r in removed)
        {
            if (r.Backend.Protocol == L4Protocol.Tcp && !includeTcp)
                continue;
            if (r.Frontend.Address.AddressFamily == AddressFamily.InterNetworkV6 && r.Backend.Address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                keys6.Add(new SockTerm6Key
                {
                    BackendAddress = Lb6Address.Create(r.Backend.Address),
                    BackendPortBe = NetworkOrder.ToBe16(r.Backend.Port),
                    FrontendAddress = Lb6Address.Create(r.Frontend.Address),
                    FrontendPortBe = NetworkOrder.ToBe16(r.Frontend.Port),
                    Proto = (byte)r.Backend.Protocol,
                });
                continue;
            }
            if (r.Frontend.Address.AddressFamily != AddressFamily.InterNetwork || r.Backend.Address.AddressFamily != AddressFamily.InterNetwork)
                continue;
            keys.Add(new SockTermKey
            {
                BackendAddressBe = NetworkOrder.ToBe32(r.Backend.Address),
                BackendPortBe = NetworkOrder.ToBe16(r.Backend.Port),
                FrontendAddressBe = NetworkOrder.ToBe32(r.Frontend.Address),
                FrontendPortBe = NetworkOrder.ToBe16(r.Frontend.Port),
                Proto = (byte)r.Backend.Protocol,
            });
        }
        return new TerminationTargets(keys, keys6);
    }

    public bool HasProtocol(L4Protocol protocol) => Keys.Any(k => k.Proto == (byte)protocol);

    /// <summary>The key for a socket whose reverse entry names <paramref name="frontend"/>.</summary>
    public bool Contains(uint backendAddressBe, ushort backendPortBe, byte proto, in Lb4ReverseSkValue frontend) =>
        Keys.Contains(new SockTermKey
        {
            BackendAddressBe = backendAddressBe,
            BackendPortBe = backendPortBe,
            FrontendAddressBe = frontend.AddressBe,
            FrontendPortBe = frontend.PortBe,
            Proto = proto,
        });

    /// <summary>Any target with this peer, whatever the frontend: the cheap first filter before the reverse-map lookup.</summary>
    public bool HasBackend(uint backendAddressBe, ushort backendPortBe, byte proto) =>
        backends.Contains((backendAddressBe, backendPortBe, proto));

    /// <summary>The IPv6 twin of <see cref="Contains"/>.</summary>
    public bool Contains6(Lb6Address backendAddress, ushort backendPortBe, byte proto, in Lb6ReverseSkValue frontend) =>
        Keys6.Contains(new SockTerm6Key
        {
            BackendAddress = backendAddress,
            BackendPortBe = backendPortBe,
            FrontendAddress = frontend.Address,
            FrontendPortBe = frontend.PortBe,
            Proto = proto,
        });

    /// <summary>The IPv6 twin of <see cref="HasBackend"/>.</summary>
    public bool HasBackend6(Lb6Address backendAddress, ushort backendPortBe, byte proto) =>
        backends6.Contains((backendAddress, backendPortBe, proto));

    /// <summary>Passes of at most <paramref name="size"/> keys per family: the IPv4 ones, then the IPv6 ones.</summary>
    public IEnumerable<(SockTermKey[] Keys, SockTerm6Key[] Keys6)> Chunks(int size) =>
        Keys.Chunk(size).Select(c => (c, Array.Empty<SockTerm6Key>()))
            .Concat(Keys6.Chunk(size).Select(c => (Array.Empty<SockTermKey>(), c)));
}
