namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The bookkeeping both frontend address filters share (lb4_fe_filter and lb6_fe_filter, bpf/lib/lb_abi.h): a bitmap
/// over addresses that lets the forward hooks skip the service lookup for sockets that go to no Service. It counts
/// what stands behind each bit, master entries and NodePort's node addresses alike, so a bit is set while any master
/// or node address that hashes there exists. Pure bookkeeping: it returns the words to write and the caller writes
/// them, before a master or node address appears (<see cref="AddMasters"/>, <see cref="AddNodeAddresses"/>) and after
/// the last one is gone (<see cref="RemoveMasters"/>, <see cref="RemoveNodeAddresses"/>), which is the only order in
/// which the programs never miss a frontend. A family supplies its master key, its address and its hash.
/// </summary>
internal abstract class FrontendFilterBitmap<TMaster, TAddress>
    where TMaster : struct, IEquatable<TMaster>
    where TAddress : struct, IEquatable<TAddress>
{
    private readonly HashSet<TMaster> masters = [];
    private readonly HashSet<TAddress> nodeAddresses = [];
    private readonly Dictionary<uint, int> countPerBit = []; // masters and node addresses per bit
    private readonly ulong[] words = new ulong[FrontendAddressFilter.Words];

    // The words one call changed, each once: a first sync changes about one word per frontend address (10k-50k), as
    // many tree nodes in a sorted set.
    private readonly ulong[] changedMarks = new ulong[FrontendAddressFilter.Words / 64];
    private readonly List<uint> changed = [];

    /// <summary>The bit the programs test for this address (lb4_fe_filter_bit(), lb6_fe_filter_bit()).</summary>
    protected abstract uint BitOfAddress(TAddress address);

    /// <summary>The address of a master key, or null when the key is a slot (slots need no bit).</summary>
    protected abstract TAddress? MasterAddress(TMaster key);

    /// <summary>
    /// Forgets the masters and counts these: the whole bitmap, every word, to overwrite what the map held. The node
    /// addresses counted so far are kept (they are not read back from the services map).
    /// </summary>
    public ulong[] Rebuild(IEnumerable<TMaster> currentMasters)
    {
        masters.Clear();
        countPerBit.Clear();
        Array.Clear(words);
        foreach (var address in nodeAddresses)
            Count(BitOfAddress(address));
        foreach (var key in currentMasters)
            AddMaster(key);
        ResetChanged();
        return (ulong[])words.Clone();
    }

    /// <summary>Counts node addresses; returns the words whose value changed.</summary>
    public List<KeyValuePair<uint, ulong>> AddNodeAddresses(IEnumerable<TAddress> addresses)
    {
        foreach (var address in addresses)
        {
            if (nodeAddresses.Add(address))
                Count(BitOfAddress(address));
        }
        return TakeChangedWords();
    }

    /// <summary>Uncounts node addresses; returns the words whose value changed (a bit nothing needs any more).</summary>
    public List<KeyValuePair<uint, ulong>> RemoveNodeAddresses(IEnumerable<TAddress> addresses)
    {
        foreach (var address in addresses)
        {
            if (nodeAddresses.Remove(address))
                Uncount(BitOfAddress(address));
        }
        return TakeChangedWords();
    }

    /// <summary>Counts new master keys; returns the words whose value changed (a bit went from clear to set).</summary>
    public List<KeyValuePair<uint, ulong>> AddMasters(ReadOnlySpan<TMaster> keys)
    {
        foreach (ref readonly var key in keys)
            AddMaster(key);
        return TakeChangedWords();
    }

    private void AddMaster(in TMaster key)
    {
        if (MasterAddress(key) is { } address && masters.Add(key))
            Count(BitOfAddress(address));
    }

    /// <summary>Uncounts deleted master keys; returns the words whose value changed (a bit's last master went).</summary>
    public List<KeyValuePair<uint, ulong>> RemoveMasters(ReadOnlySpan<TMaster> keys)
    {
        foreach (ref readonly var key in keys)
        {
            if (MasterAddress(key) is not { } address || !masters.Remove(key))
                continue;
            Uncount(BitOfAddress(address));
        }
        return TakeChangedWords();
    }

    /// <summary>True if the programs would look this address up (the bit is set): a frontend, or a false positive.</summary>
    public bool MayBeFrontend(TAddress address)
    {
        uint bit = BitOfAddress(address);
        return (words[bit >> 6] & (1UL << (int)(bit & 63))) != 0;
    }

    private void Count(uint bit)
    {
        ref int n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(countPerBit, bit, out _);
        if (n++ == 0)
        {
            words[bit >> 6] |= 1UL << (int)(bit & 63);
            MarkChanged(bit >> 6);
        }
    }

    private void Uncount(uint bit)
    {
        int n = countPerBit[bit] - 1;
        if (n > 0)
        {
            countPerBit[bit] = n;
            return;
        }
        countPerBit.Remove(bit);
        words[bit >> 6] &= ~(1UL << (int)(bit & 63));
        MarkChanged(bit >> 6);
    }

    private void MarkChanged(uint word)
    {
        ref ulong mark = ref changedMarks[word >> 6];
        ulong flag = 1UL << (int)(word & 63);
        if ((mark & flag) != 0)
            return;
        mark |= flag;
        changed.Add(word);
    }

    /// <summary>The words changed since the last call, in ascending order, with their values now.</summary>
    private List<KeyValuePair<uint, ulong>> TakeChangedWords()
    {
        changed.Sort();
        var result = new List<KeyValuePair<uint, ulong>>(changed.Count);
        foreach (uint w in changed)
            result.Add(new KeyValuePair<uint, ulong>(w, words[w]));
        ResetChanged();
        return result;
    }

    private void ResetChanged()
    {
        foreach (uint w in changed)
            changedMarks[w >> 6] = 0;
        changed.Clear();
    }
}
