namespace CgroupLb.Manifests;

/// <summary>
/// One string per short text that repeats across documents (apiVersion, kind, namespaces, label keys, port names,
/// protocols, address types, node names, zones): at 10k Services with their slices each document would otherwise
/// carry its own copies, made on fresh memory during the first read and kept as long as the object. A small
/// direct-mapped table per thread (the reader parses documents on several threads): a text that meets another in its
/// slot replaces it, so unique texts cost a lookup and never grow the table. Only for fields whose values repeat;
/// names of objects are unique and are not passed here.
/// </summary>
internal static class RepeatedText
{
    private const int Slots = 512;

    /// <summary>Longer texts are not worth a lookup (and are rarely repeated field values).</summary>
    internal const int MaxLength = 64;

    [ThreadStatic]
    private static string?[]? table;

    /// <summary>A string equal to <paramref name="text"/>: the one made earlier on this thread when it is still in its slot.</summary>
    public static string Of(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return "";
        }

        if (text.Length > MaxLength)
        {
            return new string(text);
        }

        var slots = table ??= new string?[Slots];
        var slot = (int)(TextHash.Of(text) & (Slots - 1));
        if (slots[slot] is { } earlier && text.SequenceEqual(earlier))
        {
            return earlier;
        }

        var made = new string(text);
        slots[slot] = made;
        return made;
    }
}
