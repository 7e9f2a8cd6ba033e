namespace CgroupLb.Manifests;

/// <summary>
/// One document of a multi-document file: where it sits in the file's text (no copy is made unless
/// <see cref="Text"/> is asked for, which only YamlDotNet's fallback parse needs), the file line it starts on
/// (1-based), and a 64-bit hash of the text: two documents with the same hash are taken to be the same document, so
/// an unchanged document is never parsed twice and an object whose document did not change is never reported as changed.
/// </summary>
internal readonly record struct YamlDocumentText(int Index, int FirstLine, string Source, int Start, int Length)
{
    public YamlDocumentText(int index, int firstLine, string text)
        : this(index, firstLine, text, 0, text.Length)
    {
    }

    public ulong Hash { get; } = TextHash.Of(Source.AsSpan(Start, Length));

    public ReadOnlySpan<char> Span => Source.AsSpan(Start, Length);

    /// <summary>The document's text as a string of its own (a copy when the document is part of a larger text).</summary>
    public string Text => Start == 0 && Length == Source.Length ? Source : Source.Substring(Start, Length);
}
