using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The host side of lb4_fe_filter (bpf/lib/lb_abi.h), over IPv4 master keys and node addresses (network order as
/// stored); the counting and the write order are <see cref="FrontendFilterBitmap{TMaster, TAddress}"/>'s. The geometry
/// constants here serve lb6_fe_filter too (<see cref="FrontendAddressFilter6"/>), as lb_abi.h defines it.
/// </summary>
internal sealed class FrontendAddressFilter : FrontendFilterBitmap<Lb4ServiceKey, uint>
{
    /// <summary>LB4_FE_FILTER_BITS_LOG2: 2^20 bits, about 1% false positives at 10k frontend addresses.</summary>
    public const int BitsLog2 = 20;

    /// <summary>LB4_FE_FILTER_WORDS: 64-bit words of bitmap; the map holds one more, the armed word.</summary>
    public const uint Words = 1u << (BitsLog2 - 6);

    /// <summary>LB4_FE_FILTER_ARMED: nonzero once the bitmap was filled; until then the programs ignore it.</summary>
    public const uint ArmedIndex = Words;

    /// <summary>LB4_FE_FILTER_HASH_MUL.</summary>
    public const uint HashMultiplier = 0x9E3779B1u;

    /// <summary>lb4_fe_filter_bit(): Fibonacci hashing of the address as stored (its network-order bytes read natively).</summary>
    public static uint BitOf(uint addressBe) => unchecked(addressBe * HashMultiplier) >> (32 - BitsLog2);

    protected override uint BitOfAddress(uint address) => BitOf(address);

    protected override uint? MasterAddress(Lb4ServiceKey key) => key.BackendSlot == 0 ? key.AddressBe : null;
}
