using CgroupLb.Interop;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// lb_svc_gen, the reuse generation of each service id (bpf/lib/lb_abi.h): sendmsg4 reuses an unconnected UDP
/// socket's last translation while its frontend's value stands, so every write that changes a frontend (its slots or
/// master, its removal) moves the value on, after the write, never before: a program that read the old value may have
/// seen old or new entries, and looks up again once the new value is there. Written as memory (the array is
/// <c>BPF_F_MMAPABLE</c>), by syscalls where the kernel refuses the mapping; a first sync of 50k frontends moves 50k
/// values. Null map: a read-only view of maps an older agent pinned, whose programs reuse nothing. Owns the map handle.
/// </summary>
internal sealed class ServiceGenerations : IDisposable
{
    /// <summary>LB_SVC_GEN_LIMIT: values are 1..Limit-1 (24 bits in the socket's entry); 0 means "never reuse".</summary>
    public const uint Limit = 1u << 24;

    // The kernel lays array values out at 8 bytes for a 4-byte value.
    private const int Stride = 8;

    private readonly BpfMapHandle? map;
    private readonly BpfMappedMemory? memory;
    private readonly uint maxEntries;

    public ServiceGenerations(BpfMapHandle? map)
    {
        this.map = map;
        if (map is null)
            return;
        maxEntries = map.Info.MaxEntries;
        try
        {
            memory = map.MapShared();
        }
        catch (BpfException)
        {
            memory = null; // an array without BPF_F_MMAPABLE: the syscalls below do the same
        }
    }

    /// <summary>The value after <paramref name="current"/>: one more, wrapping past Limit - 1 to 1 (0 is never handed out).</summary>
    public static uint Next(uint current) => current is 0 || current >= Limit - 1 ? 1 : current + 1;

    /// <summary>Moves the generation of each of <paramref name="serviceIds"/> on (ids outside the array are no frontend's).</summary>
    public void Bump(ReadOnlySpan<uint> serviceIds)
    {
        if (map is null)
            return;
        foreach (uint id in serviceIds)
        {
            if (id != 0 && id < maxEntries)
                Write(id, Next(Read(id)));
        }
    }

    /// <summary>
    /// Moves every value in use on: for an agent taking over maps, whose predecessor may have stopped between a write
    /// and its bump, so that no socket reuses an answer the maps no longer give.
    /// </summary>
    public int BumpAllInUse()
    {
        if (map is null)
            return 0;
        int bumped = 0;
        for (uint id = 1; id < maxEntries; id++)
        {
            uint current = Read(id);
            if (current == 0)
                continue;
            Write(id, Next(current));
            bumped++;
        }
        return bumped;
    }

    /// <summary>The generation of <paramref name="serviceId"/> (0: never written).</summary>
    public uint Read(uint serviceId)
    {
        if (memory is not null)
            return Volatile.Read(ref memory.At<uint>(checked((int)serviceId * Stride)));
        return map!.TryLookup(serviceId, out uint value) ? value : 0;
    }

    private void Write(uint serviceId, uint value)
    {
        if (memory is not null)
            Volatile.Write(ref memory.At<uint>(checked((int)serviceId * Stride)), value);
        else
            map!.Update(serviceId, value, BpfUpdateFlags.Any);
    }

    public void Dispose()
    {
        memory?.Dispose();
        map?.Dispose();
    }
}
