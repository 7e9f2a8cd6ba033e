namespace CgroupLb.Datapath.Writing;

/// <summary>
/// Hands out ids in [first, last]. It moves a cursor forward instead of reusing the lowest free id, so an id that
/// was just released (and whose counters an SRE may still be reading) is not given to another service at once.
/// </summary>
internal sealed class IdAllocator
{
    private readonly HashSet<uint> inUse = [];
    private readonly uint first;
    private readonly uint last;
    private uint cursor;

    public IdAllocator(uint first, uint last)
    {
        this.first = first;
        this.last = last;
        cursor = first;
    }

    public int Count => inUse.Count;

    public void MarkUsed(uint id)
    {
        if (id < first || id > last)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"id outside [{first}, {last}]");
        inUse.Add(id);
    }

    public bool TryAllocate(out uint id)
    {
        ulong span = (ulong)last - first + 1;
        for (ulong i = 0; i < span; i++)
        {
            uint candidate = cursor;
            cursor = candidate == last ? first : candidate + 1;
            if (inUse.Add(candidate))
            {
                id = candidate;
                return true;
            }
        }
        id = 0;
        return false;
    }

    public void Release(uint id) => inUse.Remove(id);

    public void EnsureCapacity(int ids) => inUse.EnsureCapacity(ids);

    /// <summary>Forgets which ids are in use (a reload marks them again); the cursor keeps its place.</summary>
    public void Clear() => inUse.Clear();
}
