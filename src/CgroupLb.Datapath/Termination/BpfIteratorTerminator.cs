using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// sock_terminate.bpf.o loaded and its iterators attached: the agent's pinned reverse maps and socket storage of both
/// families (lb4_reverse_sk, lb4_sk_frontend, lb4_sk_claim, lb6_reverse_sk, lb6_sk_frontend, lb6_sk_claim) are reused by fd, so the iterators see exactly what the socket hooks wrote. Loading it is the probe for bpf_sock_destroy (Linux 6.5+):
/// without the kfunc libbpf refuses the object and the caller falls back. Owns the object and links.
/// </summary>
internal sealed class BpfIteratorTerminator : IDisposable
{
    public const string ObjectName = "sock_terminate";
    private const string UdpProgram = "cglb_sock_term_udp";
    private const string TcpProgram = "cglb_sock_term_tcp";
    private const string TargetsMap = "sock_term_targets";
    private const string Targets6Map = "sock_term_tgts6";

    private readonly BpfObject bpfObject;
    private readonly BpfLink udp;
    private readonly BpfLink? tcp;
    private readonly BpfMapHandle targets;
    private readonly BpfMapHandle targets6;

    private BpfIteratorTerminator(BpfObject bpfObject, BpfLink udp, BpfLink? tcp, BpfMapHandle targets, BpfMapHandle targets6)
    {
        this.bpfObject = bpfObject;
        this.udp = udp;
        this.tcp = tcp;
        this.targets = targets;
        this.targets6 = targets6;
        Capacity = (int)Math.Min(targets.Info.MaxEntries, targets6.Info.MaxEntries);
    }

    /// <summary>Targets of one family one pass can hold (the maps' max_entries).</summary>
    public int Capacity { get; }

    /// <param name="socketFrontends">The pinned lb4_sk_frontend; null when there is none, then the object's own (empty)
    /// map stands in and every answer comes from lb4_reverse_sk.</param>
    /// <param name="reverseSockets6">The pinned lb6_reverse_sk; null under pins without IPv6, then the object's own (empty) map.</param>
    /// <param name="socketFrontends6">The pinned lb6_sk_frontend, as <paramref name="socketFrontends"/>.</param>
    /// <param name="socketClaims6">The pinned lb6_sk_claim, with as many entries as <paramref name="socketClaims"/>; null under an
    /// agent that had none, then the object's own one-entry array stands in and answers nothing.</param>
    /// <param name="socketClaims">The pinned lb4_sk_claim; null under an agent that had none, then the iterators never ask it.</param>
    public static BpfIteratorTerminator Load(BpfMapHandle reverseSockets, BpfMapHandle? socketFrontends, BpfMapHandle? socketClaims,
        BpfMapHandle? reverseSockets6, BpfMapHandle? socketFrontends6, BpfMapHandle? socketClaims6, bool terminateTcp)
    {
        var bpfObject = BpfObject.OpenMemory(EmbeddedObject.Read(EmbeddedObject.SockTerminateResourceName), ObjectName);
        BpfLink? udp = null, tcp = null;
        try
        {
            bpfObject.GetMap(MapNames.ReverseSockets).ReuseFd(reverseSockets);
            if (socketFrontends is not null)
                bpfObject.GetMap(MapNames.SocketFrontends).ReuseFd(socketFrontends);
            if (socketClaims is not null)
            {
                bpfObject.GetMap(MapNames.SocketClaims).ReuseFd(socketClaims);
                SetClaimSlots(bpfObject, socketClaims.Info.MaxEntries);
            }
            if (reverseSockets6 is not null)
                bpfObject.GetMap(MapNames.ReverseSockets6).ReuseFd(reverseSockets6);
            if (socketFrontends6 is not null)
                bpfObject.GetMap(MapNames.SocketFrontends6).ReuseFd(socketFrontends6);
            if (socketClaims is not null && socketClaims6 is not null)
            {
                if (socketClaims6.Info.MaxEntries != socketClaims.Info.MaxEntries)
                    throw new DatapathException("socket termination", $"{MapNames.SocketClaims6} has {socketClaims6.Info.MaxEntries} entries, {MapNames.SocketClaims} {socketClaims.Info.MaxEntries}: both are indexed by the same cookie bits");
                bpfObject.GetMap(MapNames.SocketClaims6).ReuseFd(socketClaims6);
            }
            bpfObject.GetProgram(TcpProgram).SetAutoload(terminateTcp);
            bpfObject.Load();
            udp = bpfObject.GetProgram(UdpProgram).AttachIterator();
            if (terminateTcp)
                tcp = bpfObject.GetProgram(TcpProgram).AttachIterator();
            var targets = bpfObject.GetMap(TargetsMap).OpenHandle();
            BpfMapHandle targets6;
            try
            {
                targets6 = bpfObject.GetMap(Targets6Map).OpenHandle();
            }
            catch
            {
                targets.Dispose();
                throw;
            }
            return new BpfIteratorTerminator(bpfObject, udp, tcp, targets, targets6);
        }
        catch
        {
            tcp?.Dispose();
            udp?.Dispose();
            bpfObject.Dispose();
            throw;
        }
    }

    /// <summary>sock_term_claim_slots, the object's only .rodata variable: the claim map's entries (a power of two).</summary>
    private static void SetClaimSlots(BpfObject bpfObject, uint slots)
    {
        var rodata = bpfObject.Maps.FirstOrDefault(m => m.Name.EndsWith(".rodata", StringComparison.Ordinal))
            ?? throw new DatapathException("socket termination", $"{ObjectName}.bpf.o has no .rodata for sock_term_claim_slots");
        byte[] bytes = rodata.GetInitialValue();
        if (bytes.Length < sizeof(uint))
            throw new DatapathException("socket termination", $"{ObjectName}.bpf.o: .rodata is {bytes.Length} bytes, too small for sock_term_claim_slots");
        BitConverter.TryWriteBytes(bytes, slots);
        rodata.SetInitialValue(bytes);
    }

    public void SetTargets(IReadOnlyCollection<SockTermKey> keys, IReadOnlyCollection<SockTerm6Key> keys6)
    {
        byte one = 1;
        foreach (SockTermKey key in keys)
            targets.Update(key, one, BpfUpdateFlags.Any);
        foreach (SockTerm6Key key in keys6)
            targets6.Update(key, one, BpfUpdateFlags.Any);
    }

    public void ClearTargets(IReadOnlyCollection<SockTermKey> keys, IReadOnlyCollection<SockTerm6Key> keys6)
    {
        foreach (SockTermKey key in keys)
            targets.Delete(key);
        foreach (SockTerm6Key key in keys6)
            targets6.Delete(key);
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
        targets6.Dispose();
        targets.Dispose();
        tcp?.Dispose();
        udp.Dispose();
        bpfObject.Dispose();
    }
}
