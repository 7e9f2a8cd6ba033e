namespace CgroupLb.Manifests;

/// <summary>One document's text cut out of a multi-document file, and the file line it starts on (1-based).</summary>
internal readonly record struct YamlDocumentText(int Index, int FirstLine, string Text);
