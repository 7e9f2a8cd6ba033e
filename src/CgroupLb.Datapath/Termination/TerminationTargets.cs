using System.Net.Sockets;
using CgroupLb.Datapath.Abi;
using CgroupLb.Model.LoadBalancing;
using CgroupLb.Model.Sync;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// The removed (frontend, backend) pairs as the iterator's map keys. IPv4 only, like the data path; TCP pairs only
/// when TCP termination is on.
/// </summary>
internal sealed class TerminationTargets
{
    private readonly HashSet<(uint Address, ushort Port, byte Proto)> backends;

    private TerminationTargets(HashSet<SockTermKey> keys)
    {
        Keys = keys;
        backends = keys.Select(k => (k.BackendAddressBe, k.BackendPortBe, k.Proto)).ToHashSet();
    }

    public HashSet<SockTermKey> Keys { get; }

    public bool IsEmpty => Keys.Count == 0;

    public static TerminationTargets Of(IEnumerable<RemovedBackend> removed, bool includeTcp)
    {
        var keys = new HashSet<SockTermKey>();
        foreach (RemovedBackend r in removed)
        {
            if (r.Frontend.Address.AddressFamily != AddressFamily.InterNetwork || r.Backend.Address.AddressFamily != AddressFamily.InterNetwork)
                continue;
            if (r.Backend.Protocol == L4Protocol.Tcp && !includeTcp)
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
        return new TerminationTargets(keys);
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

    public IEnumerable<SockTermKey[]> Chunks(int size) => Keys.Chunk(size);
}
