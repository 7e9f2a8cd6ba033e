using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// sock_terminate.bpf.o loaded and its iterators attached: the agent's pinned lb4_reverse_sk and lb4_sk_frontend are
/// reused by fd, so the iterators see exactly what the socket hooks wrote. Loading it is the probe for bpf_sock_destroy (Linux 6.5+):
/// without the kfunc libbpf refuses the object and the caller falls back. Owns the object and links.
/// </summary>
internal sealed class BpfIteratorTerminator : IDisposable
{
    public const string ObjectName = "sock_terminate";
    private const string UdpProgram = "cglb_sock_term_udp";
    private const string TcpProgram = "cglb_sock_term_tcp";
    private const string TargetsMap = "sock_term_targets";

    private readonly BpfObject bpfObject;
    private readonly BpfLink udp;
    private readonly BpfLink? tcp;
    private readonly BpfMapHandle targets;

    private BpfIteratorTerminator(BpfObject bpfObject, BpfLink udp, BpfLink? tcp, BpfMapHandle targets)
    {
        this.bpfObject = bpfObject;
        this.udp = udp;
        this.tcp = tcp;
        this.targets = targets;
        Capacity = (int)targets.Info.MaxEntries;
    }

    /// <summary>Targets one pass can hold (the map's max_entries).</summary>
    public int Capacity { get; }

    /// <param name="socketFrontends">The pinned lb4_sk_frontend; null when there is none, then the object's own (empty)
    /// map stands in and every answer comes from lb4_reverse_sk.</param>
    public static BpfIteratorTerminator Load(BpfMapHandle reverseSockets, BpfMapHandle? socketFrontends, bool terminateTcp)
    {
        var bpfObject = BpfObject.OpenMemory(EmbeddedObject.Read(EmbeddedObject.SockTerminateResourceName), ObjectName);
        BpfLink? udp = null, tcp = null;
        try
        {
            bpfObject.GetMap(MapNames.ReverseSockets).ReuseFd(reverseSockets);
            if (socketFrontends is not null)
                bpfObject.GetMap(MapNames.SocketFrontends).ReuseFd(socketFrontends);
            bpfObject.GetProgram(TcpProgram).SetAutoload(terminateTcp);
            bpfObject.Load();
            udp = bpfObject.GetProgram(UdpProgram).AttachIterator();
            if (terminateTcp)
                tcp = bpfObject.GetProgram(TcpProgram).AttachIterator();
            var targets = bpfObject.GetMap(TargetsMap).OpenHandle();
            return new BpfIteratorTerminator(bpfObject, udp, tcp, targets);
        }
        catch
        {
            tcp?.Dispose();
            udp?.Dispose();
            bpfObject.Dispose();
            throw;
        }
    }

    public void SetTargets(IReadOnlyCollection<SockTermKey> keys)
    {
        byte one = 1;
        foreach (SockTermKey key in keys)
            targets.Update(key, one, BpfUpdateFlags.Any);
    }

    public void ClearTargets(IReadOnlyCollection<SockTermKey> keys)
    {
        foreach (SockTermKey key in keys)
            targets.Delete(key);
    }

    /// <summary>Walks the calling thread's network namespace and returns the sockets the programs closed (or tried to).</summary>
    public List<SockTermEvent> RunInCurrentNamespace(bool includeTcp)
    {
        var events = new List<SockTermEvent>();
        Run(udp, events);
        if (includeTcp && tcp is not null)
            Run(tcp, events);
        return events;
    }

    private static void Run(BpfLink link, List<SockTermEvent> events)
    {
        using var iterator = link.CreateIterator();
        byte[] output = iterator.ReadToEnd();
        events.AddRange(MemoryMarshal.Cast<byte, SockTermEvent>(output.AsSpan(0, output.Length - output.Length % Marshal.SizeOf<SockTermEvent>())).ToArray());
    }

    public void Dispose()
    {
        targets.Dispose();
        tcp?.Dispose();
        udp.Dispose();
        bpfObject.Dispose();
    }
}
