using System.Runtime.CompilerServices;

namespace CgroupLb.Manifests;

/// <summary>
/// FNV-1a over a text's UTF-16 code units, 64 bits: a fingerprint to recognise an unchanged document without keeping
/// its text. Not cryptographic; manifests are written by the node's operator, not an adversary of this cache.
/// </summary>
internal static class TextHash
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    // Optimized at once ([MethodImpl] here and on the parse's other per-document loops): the first read runs while the
    // agent's start keeps the tiered JIT busy, which postpones call counting, so these ran at tier 0 for the whole read.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong Of(ReadOnlySpan<char> text)
    {
        var hash = Offset;
        foreach (var c in text)
        {
            hash = (hash ^ c) * Prime;
        }

        return (hash ^ (ulong)text.Length) * Prime;
    }

    public static ulong Combine(ulong hash, int value) => ((hash ^ (uint)value) * Prime) ^ (ulong)value << 32;
}
