using System.Buffers.Binary;
using System.Collections.Immutable;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Writing;

/// <summary>
/// The backends programmed for a frontend with more endpoints than <see cref="LbLimits.MaxBackendSlots"/>: a subset
/// chosen by rendezvous (highest-random-weight) hashing. Each backend gets a score from a fixed hash of the frontend
/// and the backend, and the highest scores win. The choice depends on nothing but the set itself (no process seed,
/// no order of arrival), so every agent on every node picks the same subset, and adding or removing one endpoint
/// changes at most one member: a 2000-endpoint Service that gains a pod does not reshuffle its 1024 slots.
/// </summary>
internal static class BackendSubset
{
    public static ImmutableArray<Backend> Select(Frontend frontend, ImmutableArray<Backend> backends, int limit)
    {
        if (backends.Length <= limit)
            return backends;
        ulong seed = Key(frontend.Address.GetHashBytes(), frontend.Port, (byte)frontend.Protocol);
        var scored = new (ulong Score, int Index)[backends.Length];
        for (int i = 0; i < backends.Length; i++)
        {
            var b = backends[i];
            scored[i] = (Mix(seed ^ Key(b.Address.GetHashBytes(), b.Port, (byte)b.Protocol)), i);
        }
        // Highest score first; equal scores (practically never) fall back to the backends' own order.
        Array.Sort(scored, (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Index.CompareTo(y.Index));
        var chosen = new Backend[limit];
        for (int i = 0; i < limit; i++)
            chosen[i] = backends[scored[i].Index];
        Array.Sort(chosen);
        return ImmutableArray.Create(chosen);
    }

    private static ulong Key(uint address, ushort port, byte proto) => Mix(((ulong)address << 32) | ((ulong)port << 8) | proto);

    /// <summary>SplitMix64's finalizer: a fixed, well-mixed 64-bit hash (string.GetHashCode is seeded per process).</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static uint GetHashBytes(this System.Net.IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int n);
        uint folded = 0;
        for (int i = 0; i < n; i += 4)
            folded ^= BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]);
        return folded;
    }
}
