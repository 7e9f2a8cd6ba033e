using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The host side of lb4_fe_filter (bpf/lib/lb_abi.h): a bitmap over frontend addresses that lets connect4/sendmsg4
/// skip the service lookup for the sockets that go to no Service. It counts the master entries behind each bit, so a
/// bit is set while any master of an address that hashes there exists. Pure bookkeeping: it returns the words to
/// write and the caller writes them, before a master appears (<see cref="AddMasters"/>) and after the last one is
/// gone (<see cref="RemoveMasters"/>), which is the only order in which the programs never miss a frontend.
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
    private readonly Dictionary<uint, int> mastersPerBit = [];
    private readonly ulong[] words = new ulong[Words];

    /// <summary>lb4_fe_filter_bit(): Fibonacci hashing of the address as stored (its network-order bytes read natively).</summary>
    public static uint BitOf(uint addressBe) => unchecked(addressBe * HashMultiplier) >> (32 - BitsLog2);

    /// <summary>Forgets everything and counts these masters: the whole bitmap, every word, to overwrite what the map held.</summary>
    public ulong[] Rebuild(IEnumerable<Lb4ServiceKey> currentMasters)
    {
        masters.Clear();
        mastersPerBit.Clear();
        Array.Clear(words);
        AddMasters(currentMasters);
        return (ulong[])words.Clone();
    }

    /// <summary>Counts new master keys; returns the words whose value changed (a bit went from clear to set).</summary>
    public List<KeyValuePair<uint, ulong>> AddMasters(IEnumerable<Lb4ServiceKey> keys)
    {
        var changed = new SortedSet<uint>();
        foreach (var key in keys)
        {
            if (key.BackendSlot != 0 || !masters.Add(key))
                continue;
            uint bit = BitOf(key.AddressBe);
            int n = mastersPerBit.GetValueOrDefault(bit);
            mastersPerBit[bit] = n + 1;
            if (n == 0)
            {
                words[bit >> 6] |= 1UL << (int)(bit & 63);
                changed.Add(bit >> 6);
            }
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
            uint bit = BitOf(key.AddressBe);
            int n = mastersPerBit[bit] - 1;
            if (n > 0)
            {
                mastersPerBit[bit] = n;
                continue;
            }
            mastersPerBit.Remove(bit);
            words[bit >> 6] &= ~(1UL << (int)(bit & 63));
            changed.Add(bit >> 6);
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
