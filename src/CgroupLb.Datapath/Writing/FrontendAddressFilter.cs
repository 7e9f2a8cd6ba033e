using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The host side of lb4_fe_filter (bpf/lib/lb_abi.h): a bitmap over frontend addresses that lets connect4/sendmsg4
/// skip the service lookup for the sockets that go to no Service. It counts the master entries behind each bit, so a
/// bit is set while any master of an address that hashes there exists. Pure bookkeeping: it returns the words to
/// write and the caller writes them, before a master appears (<see cref="AddMasters"/>) and after the last one is
/// gone (<see cref="RemoveMasters"/>), which is the only order in which the programs never miss a frontend.
/// NodePort's node addresses (lb4_node_addrs) need their bits too, or the programs would end a connect to a node
/// address before the wildcard lookup: they are counted per bit beside the masters (<see cref="AddNodeAddresses"/>,
/// <see cref="RemoveNodeAddresses"/>), so a bit stays set while any frontend or node address needs it.
/// </summary>
internal sealed class FrontendAddressFilter
{
    /// <summary>LB4_FE_FILTER_BITS_LOG2: 2^20 bits, about 1% false positives at 10k frontend addresses.</summary>
    public const int BitsLog2 = 20;

    /// <summary>LB4_FE_FILTER_WORDS: 64-bit words of bitmap; the map holds one more, the armed word.</summary>
    public const uint Words = 1u << (BitsLog2 - 6);

    /// <summary>LB4_FE_FILTER_ARMED: nonzero once the bitmap was filled; until then the programs ignore it.</summary>
    public const uint ArmedIndex = Words;

    /// <summary>LB4_FE_FILTER_HASH_MUL.</summary>
    public const uint HashMultiplier = 0x9E3779B1u;

    private readonly HashSet<Lb4ServiceKey> masters = [];
    private readonly HashSet<uint> nodeAddresses = [];
    private readonly Dictionary<uint, int> mastersPerBit = []; // masters and node addresses per bit
    private readonly ulong[] words = new ulong[Words];

    /// <summary>lb4_fe_filter_bit(): Fibonacci hashing of the address as stored (its network-order bytes read natively).</summary>
    public static uint BitOf(uint addressBe) => unchecked(addressBe * HashMultiplier) >> (32 - BitsLog2);

    /// <summary>
    /// Forgets the masters and counts these: the whole bitmap, every word, to overwrite what the map held. The node
    /// addresses counted so far are kept (they are not read back from lb4_services_v2).
    /// </summary>
    public ulong[] Rebuild(IEnumerable<Lb4ServiceKey> currentMasters)
    {
        masters.Clear();
        mastersPerBit.Clear();
        Array.Clear(words);
        foreach (uint address in nodeAddresses)
            Count(BitOf(address), null);
        AddMasters(currentMasters);
        return (ulong[])words.Clone();
    }

    /// <summary>Counts node addresses (network order as stored); returns the words whose value changed.</summary>
    public List<KeyValuePair<uint, ulong>> AddNodeAddresses(IEnumerable<uint> addressesBe)
    {
        var changed = new SortedSet<uint>();
        foreach (uint address in addressesBe)
        {
            if (nodeAddresses.Add(address))
                Count(BitOf(address), changed);
        }
        return [.. changed.Select(w => new KeyValuePair<uint, ulong>(w, words[w]))];
    }

    /// <summary>Uncounts node addresses; returns the words whose value changed (a bit nothing needs any more).</summary>
    public List<KeyValuePair<uint, ulong>> RemoveNodeAddresses(IEnumerable<uint> addressesBe)
    {
        var changed = new SortedSet<uint>();
        foreach (uint address in addressesBe)
        {
            if (nodeAddresses.Remove(address))
                Uncount(BitOf(address), changed);
        }
        return [.. changed.Select(w => new KeyValuePair<uint, ulong>(w, words[w]))];
    }

    private void Count(uint bit, SortedSet<uint>? changed)
    {
        int n = mastersPerBit.GetValueOrDefault(bit);
        mastersPerBit[bit] = n + 1;
        if (n == 0)
        {
            words[bit >> 6] |= 1UL << (int)(bit & 63);
            changed?.Add(bit >> 6);
        }
    }

    private void Uncount(uint bit, SortedSet<uint> changed)
    {
        int n = mastersPerBit[bit] - 1;
        if (n > 0)
        {
            mastersPerBit[bit] = n;
            return;
        }
        mastersPerBit.Remove(bit);
        words[bit >> 6] &= ~(1UL << (int)(bit & 63));
        changed.Add(bit >> 6);
    }

    /// <summary>Counts new master keys; returns the words whose value changed (a bit went from clear to set).</summary>
    public List<KeyValuePair<uint, ulong>> AddMasters(IEnumerable<Lb4ServiceKey> keys)
    {
        var changed = new SortedSet<uint>();
        foreach (var key in keys)
        {
            if (key.BackendSlot != 0 || !masters.Add(key))
                continue;
            Count(BitOf(key.AddressBe), changed);
        }
        return [.. changed.Select(w => new KeyValuePair<uint, ulong>(w, words[w]))];
    }

    /// <summary>Uncounts deleted master keys; returns the words whose value changed (a bit's last master went).</summary>
    public List<KeyValuePair<uint, ulong>> RemoveMasters(IEnumerable<Lb4ServiceKey> keys)
    {
        var changed = new SortedSet<uint>();
        foreach (var key in keys)
        {
            if (key.BackendSlot != 0 || !masters.Remove(key))
                continue;
            Uncount(BitOf(key.AddressBe), changed);
        }
        return [.. changed.Select(w => new KeyValuePair<uint, ulong>(w, words[w]))];
    }

    /// <summary>True if the programs would look this address up (the bit is set): a frontend, or a false positive.</summary>
    public bool MayBeFrontend(uint addressBe)
    {
        uint bit = BitOf(addressBe);
        return (words[bit >> 6] & (1UL << (int)(bit & 63))) != 0;
    }
}
