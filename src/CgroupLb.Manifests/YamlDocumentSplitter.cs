using System.Text;

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
    /// </summary>
    public static IReadOnlyList<YamlDocumentText> Split(string content)
    {
        var documents = new List<YamlDocumentText>();
        var current = new StringBuilder();
        var currentFirstLine = 1;
        var currentHasContent = false;
        var lineNumber = 0;

        foreach (var line in EnumerateLines(content))
        {
            lineNumber++;
            if (IsSeparator(line, out var separatorCarriesContent))
            {
                Flush();
                if (!separatorCarriesContent)
                {
                    currentFirstLine = lineNumber + 1;
                    continue;
                }

                // "--- {a: 1}" or "--- !!map": the YAML parser understands a marker with inline content, so the
                // marker line opens the next document instead of being dropped.
                currentFirstLine = lineNumber;
            }

            current.Append(line).Append('\n');
            currentHasContent |= !IsBlankOrComment(line);
        }

        Flush();
        return documents;

        void Flush()
        {
            if (currentHasContent)
            {
                documents.Add(new YamlDocumentText(documents.Count, currentFirstLine, current.ToString()));
            }

            current.Clear();
            currentHasContent = false;
        }
    }

    private static bool IsSeparator(string line, out bool carriesContent)
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

        var rest = line.AsSpan(Separator.Length).Trim();
        carriesContent = rest.Length > 0 && rest[0] != '#';
        return true;
    }

    private static bool IsBlankOrComment(string line)
    {
        var trimmed = line.AsSpan().TrimStart();
        return trimmed.Length == 0 || trimmed[0] == '#';
    }

    private static IEnumerable<string> EnumerateLines(string content)
    {
        using var reader = new StringReader(content);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
