namespace CgroupLb.Manifests;

/// <summary>
/// Cuts a multi-document file at its <c>---</c> lines the way kubectl does, before any YAML parsing, so a syntax error
/// in one document cannot hide the documents after it (a YAML stream parser stops at the first error).
/// </summary>
internal static class YamlDocumentSplitter
{
    private const string Separator = "---";

    /// <summary>
    /// Documents that hold anything besides blank lines and comments, numbered from 0 in file order. Empty documents
    /// (the one before a leading <c>---</c>, or <c>---</c> twice) are skipped and take no number, as kubectl skips them.
    /// Each document's text is a slice of <paramref name="content"/> with its line ends as they were.
    /// </summary>
    public static IReadOnlyList<YamlDocumentText> Split(string content)
    {
        var documents = new List<YamlDocumentText>();
        var start = 0;
        var currentFirstLine = 1;
        var currentHasContent = false;
        var lineNumber = 0;
        var position = 0;

        while (position < content.Length)
        {
            var lineStart = position;
            var newline = content.AsSpan(position).IndexOfAny('\r', '\n');
            var lineEnd = newline < 0 ? content.Length : position + newline;
            position = lineEnd;
            if (position < content.Length && content[position] == '\r')
            {
                position++;
            }

            if (position < content.Length && content[position] == '\n')
            {
                position++;
            }

            lineNumber++;
            var line = content.AsSpan(lineStart, lineEnd - lineStart);
            if (IsSeparator(line, out var separatorCarriesContent))
            {
                Flush(lineStart);
                if (!separatorCarriesContent)
                {
                    start = position;
                    currentFirstLine = lineNumber + 1;
                    continue;
                }

                // "--- {a: 1}" or "--- !!map": the YAML parser understands a marker with inline content, so the
                // marker line opens the next document instead of being dropped.
                start = lineStart;
                currentFirstLine = lineNumber;
            }

            currentHasContent |= !IsBlankOrComment(line);
        }

        Flush(content.Length);
        return documents;

        void Flush(int end)
        {
            if (currentHasContent)
            {
                documents.Add(new YamlDocumentText(documents.Count, currentFirstLine, content, start, end - start));
            }

            currentHasContent = false;
        }
    }

    private static bool IsSeparator(ReadOnlySpan<char> line, out bool carriesContent)
    {
        carriesContent = false;
        if (!line.StartsWith(Separator, StringComparison.Ordinal))
        {
            return false;
        }

        if (line.Length > Separator.Length && !char.IsWhiteSpace(line[Separator.Length]))
        {
            return false;
        }

        var rest = line[Separator.Length..].Trim();
        carriesContent = rest.Length > 0 && rest[0] != '#';
        return true;
    }

    private static bool IsBlankOrComment(ReadOnlySpan<char> line)
    {
        var trimmed = line.TrimStart();
        return trimmed.Length == 0 || trimmed[0] == '#';
    }
}
