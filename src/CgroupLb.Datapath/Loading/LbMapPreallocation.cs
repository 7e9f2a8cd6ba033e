namespace CgroupLb.Datapath.Loading;

/// <summary>
/// The kernel memory a preallocated hash map takes from its creation on (<see cref="DatapathOptions.PreallocateLbMaps"/>),
/// so an operator reads the price in the log, and a refused allocation says what asked for it. It follows the kernel's
/// layout: every entry is a <c>struct htab_elem</c> (48 bytes on 64-bit) followed by the key and the value, each
/// rounded up to 8 bytes, and the table has a 16-byte bucket per entry (the entry count rounded up to a power of two).
/// </summary>
internal static class LbMapPreallocation
{
    private const ulong ElementHeader = 48;
    private const ulong Bucket = 16;

    public static ulong BytesOf(uint keySize, uint valueSize, uint maxEntries) =>
        maxEntries * (ElementHeader + RoundUp8(keySize) + RoundUp8(valueSize)) + Bucket * System.Numerics.BitOperations.RoundUpToPowerOf2(maxEntries);

    public static string Megabytes(ulong bytes) => $"{bytes / (1024.0 * 1024.0):0.#} MB";

    private static ulong RoundUp8(uint size) => (size + 7UL) & ~7UL;
}
