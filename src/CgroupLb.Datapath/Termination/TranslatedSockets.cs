using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// User space's twin of sock_term_lb_translated() in bpf/lib/sock_term.h, for the netlink path: did the LB connect
/// this socket (by cookie) to this backend, and from which frontend. Today the answer is the socket's lb4_reverse_sk
/// entry; if reverse entries move elsewhere, this and the BPF helper change together.
/// </summary>
internal static class TranslatedSockets
{
    public static bool TryGetFrontend(BpfMapHandle reverse, ulong cookie, uint backendAddressBe, ushort backendPortBe, out Lb4ReverseSkValue frontend)
    {
        var key = new Lb4ReverseSkKey { Cookie = cookie, AddressBe = backendAddressBe, PortBe = backendPortBe };
        return reverse.TryLookup(key, out frontend);
    }
}
