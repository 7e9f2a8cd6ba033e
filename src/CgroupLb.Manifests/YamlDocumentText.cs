namespace CgroupLb.Manifests;

/// <summary>
/// One document's text cut out of a multi-document file, the file line it starts on (1-based), and a 64-bit hash of
/// the text: two documents with the same hash are taken to be the same document, so an unchanged document is never
/// parsed twice and an object whose document did not change is never reported as changed.
/// </summary>
internal readonly record struct YamlDocumentText(int Index, int FirstLine, string Text)
{
    public ulong Hash { get; } = TextHash.Of(Text);
}
