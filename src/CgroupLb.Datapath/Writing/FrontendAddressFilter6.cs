using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The host side of lb6_fe_filter (bpf/lib/lb_abi.h): <see cref="FrontendAddressFilter"/>'s bitmap, geometry and
/// write order over IPv6 master keys and node addresses, with lb6_fe_filter_bit() as the hash.
/// </summary>
internal sealed class FrontendAddressFilter6 : FrontendFilterBitmap<Lb6ServiceKey, Lb6Address>
{
    /// <summary>
    /// lb6_fe_filter_bit(): the address's four words as stored (its network-order bytes read natively, as the
    /// programs read user_ip6), each mixed in by a multiplication and a shift, then Fibonacci hashing.
    /// </summary>
    public static uint BitOf(Lb6Address address)
    {
        var words = MemoryMarshal.Cast<Lb6Address, uint>(MemoryMarshal.CreateReadOnlySpan(ref address, 1));
        uint h = 0;
        foreach (uint word in words)
            h = Mix(h, word);
        return unchecked(h * FrontendAddressFilter.HashMultiplier) >> (32 - FrontendAddressFilter.BitsLog2);
    }

    private static uint Mix(uint h, uint word)
    {
        h = unchecked((h ^ word) * FrontendAddressFilter.HashMultiplier);
        return h ^ (h >> 16);
    }

    protected override uint BitOfAddress(Lb6Address address) => BitOf(address);

    protected override Lb6Address? MasterAddress(Lb6ServiceKey key) => key.BackendSlot == 0 ? key.Address : null;
}
