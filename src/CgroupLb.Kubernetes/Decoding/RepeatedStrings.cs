using System.Text.Json;

namespace CgroupLb.Kubernetes.Decoding;

/// <summary>
/// One string instance per text for values that repeat across the objects of a list: node names, zones, protocols,
/// port names, namespaces, label keys and the like (10k EndpointSlices x 10 endpoints name a few hundred nodes 100k
/// times). A direct-mapped table per thread, compared against the reader's UTF-8 without decoding it: a hit allocates
/// nothing, a miss costs what reading the string costs anyway and replaces the slot. Bounded (a few thousand short
/// strings per decoding thread); unique values (names, uids, addresses) are not looked up at all, so they cannot evict
/// the repeated ones.
/// </summary>
internal static class RepeatedStrings
{
    private const int Slots = 4096;
    private const int MaxBytes = 128;

    [ThreadStatic]
    private static string?[]? table;

    /// <summary>The string token's value; the reader must be on a string token.</summary>
    public static string Get(ref Utf8JsonReader reader)
    {
        if (reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length > MaxBytes)
        {
            return reader.GetString()!;
        }

        var span = reader.ValueSpan;
        var hash = new HashCode();
        hash.AddBytes(span);
        var slot = hash.ToHashCode() & (Slots - 1);
        var slots = table ??= new string?[Slots];
        if (slots[slot] is { } cached && reader.ValueTextEquals(cached))
        {
            return cached;
        }

        var value = reader.GetString()!;
        slots[slot] = value;
        return value;
    }
}
