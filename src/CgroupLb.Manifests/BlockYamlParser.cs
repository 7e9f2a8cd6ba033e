using System.Runtime.CompilerServices;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace CgroupLb.Manifests;

/// <summary>
/// A parser for the plain subset of YAML that manifests are written in (block mappings and sequences, one-line plain
/// and quoted scalars, one-line flow collections, comments), producing the same events YamlDotNet's parser does, with
/// the same start positions, at a fraction of its cost: YamlDotNet allocates a token, a mark and an event per scalar
/// and about 45 bytes per character of text, which made the YAML parse most of the CPU of reading 10k Services. The
/// events are kept as compact nodes (<see cref="YamlNode"/>: a struct each, scalars as ranges of the text); event
/// objects are made from them only when something asks (<see cref="ToEvents"/>: the JSON path, error positions, tests).
/// <para>
/// It never reports an error of its own: wherever the text leaves the subset (anchors, aliases, tags, block or
/// multi-line scalars, directives, tabs, complex keys, or anything that is not valid YAML) it throws
/// <see cref="BlockYamlUnsupportedException"/> before any event is used, and <see cref="YamlEventTree"/> parses the
/// document again with YamlDotNet, which then decides what it means or words the error. A test holds both parsers to
/// equal events on every manifest of the test corpus.
/// </para>
/// </summary>
internal sealed class BlockYamlParser
{
    // The document is text[origin..limit]: positions are indexes into text, marks are relative to origin.
    private readonly string text;
    private readonly int origin;
    private readonly int limit;
    private readonly List<YamlNode> nodes;

    // The lines that hold anything besides blanks and comments: where each starts, ends (before its line break),
    // its indentation and its 1-based line number.
    private readonly List<Line> lines;
    private int current;

    private BlockYamlParser(string text, int origin, int length)
    {
        this.text = text;
        this.origin = origin;
        limit = origin + length;
        // A manifest has about one node per 6-7 characters and one line per 30; buffers of an earlier document are reused.
        nodes = spareNodes ?? new List<YamlNode>(length / 6);
        lines = spareLines ?? new List<Line>(length / 24);
        (spareNodes, spareLines) = (null, null);
    }

    /// <summary>The events YamlDotNet's parser would give (what tests compare; the agent reads <see cref="ParseNodes"/>).</summary>
    /// <exception cref="BlockYamlUnsupportedException">The text is outside the subset (or not YAML at all).</exception>
    public static List<ParsingEvent> Parse(string text) => Parse(text, 0, text.Length);

    /// <inheritdoc cref="Parse(string)"/>
    public static List<ParsingEvent> Parse(string text, int start, int length) => ParseNodes(text, start, length).ToEvents();

    /// <summary>
    /// Parses the document <paramref name="text"/>[<paramref name="start"/>..+<paramref name="length"/>] without copying
    /// it, into compact nodes: one struct per event, scalars as positions in the text, no event objects.
    /// </summary>
    /// <exception cref="BlockYamlUnsupportedException">The text is outside the subset (or not YAML at all).</exception>
    public static BlockYamlParser ParseNodes(string text, int start, int length)
    {
        var parser = new BlockYamlParser(text, start, length);
        try
        {
            parser.Run();
        }
        catch (BlockYamlUnsupportedException)
        {
            parser.Release();
            throw;
        }

        return parser;
    }

    // Buffers of a released parser, taken by the next one on the thread: parsing 10k documents then allocates per
    // document only what it keeps, not a node and a line list each (most of what the parse allocated).
    [ThreadStatic]
    private static List<YamlNode>? spareNodes;

    [ThreadStatic]
    private static List<Line>? spareLines;

    // A buffer larger than this (an unusually large document) is left to the GC rather than kept for the thread.
    private const int MaxSpareNodes = 1 << 16;

    /// <summary>
    /// Hands this parser's buffers to the next parse on the thread. The parser, its <see cref="Nodes"/> and any tree over
    /// them must not be used afterwards; event objects made before (<see cref="ToEvents"/>) stay valid.
    /// </summary>
    public void Release()
    {
        if (nodes.Capacity <= MaxSpareNodes)
        {
            nodes.Clear();
            lines.Clear();
            (spareNodes, spareLines) = (nodes, lines);
        }
    }

    /// <summary>The parsed nodes, one per event YamlDotNet would give, in the same order.</summary>
    public List<YamlNode> Nodes => nodes;

    /// <summary>The text the nodes' positions index.</summary>
    public string Text => text;

    /// <summary>Characters in the document.</summary>
    public int Length => limit - origin;

    /// <summary>A scalar node's value.</summary>
    public string ValueOf(YamlNode node) => node.Value ?? text.Substring(node.ValueStart, node.ValueLength);

    /// <summary>A scalar node's value, without a copy when it stands as written in the text.</summary>
    public ReadOnlySpan<char> ValueSpanOf(int index)
    {
        var node = nodes[index];
        return node.Value is { } value ? value.AsSpan() : text.AsSpan(node.ValueStart, node.ValueLength);
    }

    /// <summary>The events YamlDotNet would give for the nodes, with their positions (line and column found now).</summary>
    public List<ParsingEvent> ToEvents()
    {
        var events = new List<ParsingEvent>(nodes.Count);
        foreach (var node in nodes)
        {
            events.Add(ToEvent(node));
        }

        return events;
    }

    public ParsingEvent ToEvent(YamlNode node)
    {
        var start = node.Kind == YamlNodeKind.StreamStart ? new Mark(0, 1, 1) : Mark(node.Start);
        var end = node.Kind == YamlNodeKind.StreamStart ? start : Mark(node.End);
        return node.Kind switch
        {
            YamlNodeKind.StreamStart => new StreamStart(start, end),
            YamlNodeKind.StreamEnd => new StreamEnd(start, end),
            YamlNodeKind.DocumentStart => new DocumentStart(null, null, true, start, end),
            YamlNodeKind.DocumentEnd => new DocumentEnd(true, start, end),
            YamlNodeKind.MappingStart => new MappingStart(AnchorName.Empty, TagName.Empty, true, node.Flow ? MappingStyle.Flow : MappingStyle.Block, start, end),
            YamlNodeKind.MappingEnd => new MappingEnd(start, end),
            YamlNodeKind.SequenceStart => new SequenceStart(AnchorName.Empty, TagName.Empty, true, node.Flow ? SequenceStyle.Flow : SequenceStyle.Block, start, end),
            YamlNodeKind.SequenceEnd => new SequenceEnd(start, end),
            _ => new Scalar(AnchorName.Empty, TagName.Empty, ValueOf(node), node.Style, node.Style == ScalarStyle.Plain, node.Style != ScalarStyle.Plain, start, end),
        };
    }

    private void Add(YamlNodeKind kind, int start, int end, bool flow = false) => nodes.Add(new YamlNode(kind, ScalarStyle.Any, flow, start, end, 0, 0, null));

    private readonly record struct Line(int Start, int End, int Indent, int Number);

    private void Run()
    {
        if (text.AsSpan(origin, limit - origin).Contains('\t'))
        {
            Unsupported();
        }

        SplitLines();
        Add(YamlNodeKind.StreamStart, origin, origin);
        if (lines.Count > 0)
        {
            var first = lines[0];
            Add(YamlNodeKind.DocumentStart, first.Start + first.Indent, first.Start + first.Indent);
            ParseNode(first.Start + first.Indent, parentIndent: -1, depth: 0);
            if (current != lines.Count)
            {
                Unsupported();
            }

            Add(YamlNodeKind.DocumentEnd, limit, limit);
        }

        Add(YamlNodeKind.StreamEnd, limit, limit);
    }

    // The per-document loops are optimized at once: see TextHash.Of.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SplitLines()
    {
        var position = origin;
        var number = 0;
        while (position < limit)
        {
            var start = position;
            var newline = text.AsSpan(position, limit - position).IndexOfAny('\r', '\n');
            var end = newline < 0 ? limit : position + newline;
            position = end;
            if (position < limit && text[position] == '\r')
            {
                position++;
            }

            if (position < limit && text[position] == '\n')
            {
                position++;
            }

            number++;
            var indent = 0;
            while (start + indent < end && text[start + indent] == ' ')
            {
                indent++;
            }

            if (start + indent == end || text[start + indent] == '#')
            {
                continue;
            }

            // A bare '\r' is a line break to YAML; a document marker or directive changes how the rest is read.
            if ((newline >= 0 && text[end] == '\r' && (end + 1 == limit || text[end + 1] != '\n'))
                || (indent == 0 && (text[start] == '%' || text.AsSpan(start, end - start).StartsWith("---", StringComparison.Ordinal)
                    || text.AsSpan(start, end - start).StartsWith("...", StringComparison.Ordinal))))
            {
                Unsupported();
            }

            lines.Add(new Line(start, end, indent, number));
        }
    }

    /// <summary>A node starting at <paramref name="position"/> on the current line; the lines it spans are consumed.</summary>
    private void ParseNode(int position, int parentIndent, int depth)
    {
        if (depth > YamlLimits.MaxDepth)
        {
            Unsupported();
        }

        var line = lines[current];
        var column = position - line.Start;
        if (IsBlockEntry(position, line.End))
        {
            ParseBlockSequence(column, depth);
        }
        else if (IsMappingEntry(position, line.End))
        {
            ParseBlockMapping(position, column, depth);
        }
        else
        {
            ParseInlineValue(position, depth);
            FinishLine();
            if (current < lines.Count && lines[current].Indent > parentIndent)
            {
                // A continuation line: a multi-line plain scalar, or an error.
                Unsupported();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseBlockMapping(int position, int indent, int depth)
    {
        Add(YamlNodeKind.MappingStart, position, position);
        while (true)
        {
            var line = lines[current];
            var colon = ParseKey(position, line.End);
            var valueStart = SkipSpaces(colon + 1, line.End);
            if (valueStart == line.End || text[valueStart] == '#')
            {
                if (valueStart != line.End && valueStart == colon + 1)
                {
                    Unsupported();
                }

                current++;
                ParseBlockValue(indent, colon + 1, ownerIsMapping: true, depth);
            }
            else
            {
                if (valueStart == colon + 1 || IsBlockEntry(valueStart, line.End))
                {
                    Unsupported();
                }

                ParseInlineValue(valueStart, depth + 1);
                FinishLine();
            }

            if (current == lines.Count || lines[current].Indent < indent)
            {
                break;
            }

            if (lines[current].Indent > indent)
            {
                Unsupported();
            }

            position = lines[current].Start + indent;
            if (IsBlockEntry(position, lines[current].End))
            {
                Unsupported();
            }
        }

        var end = current < lines.Count ? lines[current].Start + lines[current].Indent : limit;
        Add(YamlNodeKind.MappingEnd, end, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseBlockSequence(int indent, int depth)
    {
        var first = lines[current].Start + indent;
        Add(YamlNodeKind.SequenceStart, first, first + 1);
        while (current < lines.Count && lines[current].Indent == indent && IsBlockEntry(lines[current].Start + indent, lines[current].End))
        {
            var line = lines[current];
            var dash = line.Start + indent;
            var item = SkipSpaces(dash + 1, line.End);
            if (item == line.End || text[item] == '#')
            {
                if (item != line.End && item == dash + 1)
                {
                    Unsupported();
                }

                current++;
                ParseBlockValue(indent, dash + 1, ownerIsMapping: false, depth);
            }
            else if (IsBlockEntry(item, line.End))
            {
                // "- - a": a compact nested sequence.
                Unsupported();
            }
            else if (IsMappingEntry(item, line.End))
            {
                ParseBlockMapping(item, item - line.Start, depth + 1);
            }
            else
            {
                ParseInlineValue(item, depth + 1);
                FinishLine();
            }

            if (current < lines.Count && lines[current].Indent > indent)
            {
                Unsupported();
            }
        }

        var end = current < lines.Count ? lines[current].Start + lines[current].Indent : limit;
        Add(YamlNodeKind.SequenceEnd, end, end);
    }

    /// <summary>
    /// The value of a key or sequence entry whose line ended after the indicator: a node on the lines below, an
    /// indentless sequence under a key, or an empty (null) scalar positioned just after the indicator.
    /// </summary>
    private void ParseBlockValue(int ownerIndent, int afterIndicator, bool ownerIsMapping, int depth)
    {
        if (current < lines.Count && lines[current].Indent > ownerIndent)
        {
            ParseNode(lines[current].Start + lines[current].Indent, ownerIndent, depth + 1);
        }
        else if (ownerIsMapping && current < lines.Count && lines[current].Indent == ownerIndent
            && IsBlockEntry(lines[current].Start + ownerIndent, lines[current].End))
        {
            ParseBlockSequence(ownerIndent, depth + 1);
        }
        else
        {
            nodes.Add(new YamlNode(YamlNodeKind.Scalar, ScalarStyle.Plain, false, afterIndicator, afterIndicator, afterIndicator, 0, null));
        }
    }

    /// <summary>Emits the key at <paramref name="position"/>; returns the position of its ':'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ParseKey(int position, int end)
    {
        var c = text[position];
        if (c is '"' or '\'')
        {
            var after = ParseQuoted(position, end);
            var colon = SkipSpaces(after, end);
            if (colon == end || text[colon] != ':' || (colon + 1 < end && text[colon + 1] != ' '))
            {
                Unsupported();
            }

            return colon;
        }

        if (!CanStartPlain(position, end, flow: false))
        {
            Unsupported();
        }

        var i = position;
        while (i < end)
        {
            if (text[i] == ':' && (i + 1 == end || text[i + 1] == ' '))
            {
                var valueEnd = i;
                while (text[valueEnd - 1] == ' ')
                {
                    valueEnd--;
                }

                AddPlain(position, valueEnd);
                return i;
            }

            if (text[i] == '#' && text[i - 1] == ' ')
            {
                break;
            }

            i++;
        }

        Unsupported();
        return -1;
    }

    /// <summary>A scalar or flow collection that must end on this line (the caller checks what follows it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseInlineValue(int position, int depth)
    {
        var line = lines[current];
        var c = text[position];
        if (c is '"' or '\'')
        {
            ParseQuoted(position, line.End);
            return;
        }

        if (c is '[' or '{')
        {
            ParseFlow(position, line.End, depth);
            return;
        }

        if (!CanStartPlain(position, line.End, flow: false))
        {
            Unsupported();
        }

        var i = position;
        var valueEnd = position;
        while (i < line.End)
        {
            var ch = text[i];
            if (ch == ':' && (i + 1 == line.End || text[i + 1] == ' '))
            {
                // "a: b: c" is an error; let YamlDotNet word it.
                Unsupported();
            }

            if (ch == '#' && text[i - 1] == ' ')
            {
                break;
            }

            if (ch != ' ')
            {
                valueEnd = i + 1;
            }

            i++;
        }

        AddPlain(position, valueEnd);
    }

    /// <summary>After a value: only spaces and a comment may follow on its line, which is then done.</summary>
    private void FinishLine()
    {
        var line = lines[current];
        var rest = SkipSpaces(lastValueEnd, line.End);
        if (rest != line.End && (text[rest] != '#' || rest == lastValueEnd))
        {
            Unsupported();
        }

        current++;
    }

    // Where the value emitted last ends, for FinishLine.
    private int lastValueEnd;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ParseQuoted(int position, int end)
    {
        var quote = text[position];
        var builder = (System.Text.StringBuilder?)null;
        var segment = position + 1;
        var i = segment;
        while (true)
        {
            if (i >= end)
            {
                // A quoted scalar that runs over its line is folded; not our subset.
                Unsupported();
            }

            var c = text[i];
            if (c == quote)
            {
                if (quote == '\'' && i + 1 < end && text[i + 1] == '\'')
                {
                    builder ??= new System.Text.StringBuilder();
                    builder.Append(text, segment, i - segment).Append('\'');
                    i += 2;
                    segment = i;
                    continue;
                }

                break;
            }

            if (quote == '"' && c == '\\')
            {
                if (i + 1 >= end)
                {
                    Unsupported();
                }

                var escaped = text[i + 1] switch
                {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    _ => '\0',
                };
                if (escaped == '\0')
                {
                    Unsupported();
                }

                builder ??= new System.Text.StringBuilder();
                builder.Append(text, segment, i - segment).Append(escaped);
                i += 2;
                segment = i;
                continue;
            }

            i++;
        }

        var value = builder?.Append(text, segment, i - segment).ToString();
        var style = quote == '"' ? ScalarStyle.DoubleQuoted : ScalarStyle.SingleQuoted;
        nodes.Add(new YamlNode(YamlNodeKind.Scalar, style, false, position, i + 1, segment, i - segment, value));
        lastValueEnd = i + 1;
        return i + 1;
    }

    /// <summary>A flow sequence or mapping closed on the same line; returns the position after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ParseFlow(int position, int end, int depth)
    {
        if (depth > YamlLimits.MaxDepth)
        {
            Unsupported();
        }

        var isSequence = text[position] == '[';
        var close = isSequence ? ']' : '}';
        if (isSequence)
        {
            Add(YamlNodeKind.SequenceStart, position, position + 1, flow: true);
        }
        else
        {
            Add(YamlNodeKind.MappingStart, position, position + 1, flow: true);
        }

        var i = SkipSpaces(position + 1, end);
        if (i < end && text[i] == close)
        {
            i++;
        }
        else
        {
            while (true)
            {
                if (!isSequence)
                {
                    i = ParseFlowScalar(i, end, isKey: true);
                    if (i >= end || text[i] != ':' || i + 1 >= end || text[i + 1] != ' ')
                    {
                        Unsupported();
                    }

                    i = SkipSpaces(i + 1, end);
                    if (i >= end || text[i] is ',' or '}')
                    {
                        Unsupported();
                    }
                }

                i = i < end && text[i] is '[' or '{' ? ParseFlow(i, end, depth + 1) : ParseFlowScalar(i, end, isKey: false);
                i = SkipSpaces(i, end);
                if (i >= end)
                {
                    Unsupported();
                }

                if (text[i] == close)
                {
                    i++;
                    break;
                }

                if (text[i] != ',')
                {
                    Unsupported();
                }

                i = SkipSpaces(i + 1, end);
                if (i >= end || text[i] == close)
                {
                    Unsupported();
                }
            }
        }

        Add(isSequence ? YamlNodeKind.SequenceEnd : YamlNodeKind.MappingEnd, i - 1, i);
        lastValueEnd = i;
        return i;
    }

    /// <summary>A plain or quoted scalar inside a flow collection; returns the position after it (before any spaces).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ParseFlowScalar(int position, int end, bool isKey)
    {
        if (position >= end)
        {
            Unsupported();
        }

        if (text[position] is '"' or '\'')
        {
            return ParseQuoted(position, end);
        }

        if (!CanStartPlain(position, end, flow: true))
        {
            Unsupported();
        }

        var i = position;
        var valueEnd = position;
        while (i < end)
        {
            var c = text[i];
            if (c is ',' or ']' or '}')
            {
                break;
            }

            if (c is '[' or '{' || (c == '#' && text[i - 1] == ' '))
            {
                Unsupported();
            }

            if (c == ':' && (i + 1 == end || text[i + 1] is ' ' or ',' or ']' or '}'))
            {
                if (!isKey)
                {
                    Unsupported();
                }

                break;
            }

            if (c != ' ')
            {
                valueEnd = i + 1;
            }

            i++;
        }

        if (valueEnd == position)
        {
            Unsupported();
        }

        AddPlain(position, valueEnd);
        return isKey ? i : valueEnd;
    }

    private void AddPlain(int start, int end)
    {
        nodes.Add(new YamlNode(YamlNodeKind.Scalar, ScalarStyle.Plain, false, start, end, start, end - start, null));
        lastValueEnd = end;
    }

    /// <summary>
    /// Whether a plain scalar may start here. Stricter than YAML: any indicator character refuses, except '-' before
    /// a character that cannot continue an indicator (a negative number, "-foo").
    /// </summary>
    private bool CanStartPlain(int position, int end, bool flow)
    {
        var c = text[position];
        if (c == '-')
        {
            return position + 1 < end && text[position + 1] is not (' ' or ',' or '[' or ']' or '{' or '}');
        }

        return c is not ('?' or ':' or ',' or '[' or ']' or '{' or '}' or '#' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`')
            && !(flow && c == ' ');
    }

    private bool IsBlockEntry(int position, int end) => text[position] == '-' && (position + 1 == end || text[position + 1] == ' ');

    /// <summary>Whether the line from <paramref name="position"/> is "key: ..." (a plain or one-line quoted key).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IsMappingEntry(int position, int end)
    {
        var c = text[position];
        var i = position;
        if (c is '"' or '\'')
        {
            i++;
            while (i < end && text[i] != c)
            {
                i += c == '"' && text[i] == '\\' ? 2 : 1;
            }

            if (i >= end)
            {
                return false;
            }

            if (c == '\'' && i + 1 < end && text[i + 1] == '\'')
            {
                // An escaped quote inside a single-quoted scalar: keep scanning after it.
                return IsMappingEntryAfterQuote(position, end);
            }

            i = SkipSpaces(i + 1, end);
            return i < end && text[i] == ':' && (i + 1 == end || text[i + 1] == ' ');
        }

        if (c is '[' or '{')
        {
            return false;
        }

        for (; i < end; i++)
        {
            if (text[i] == ':' && (i + 1 == end || text[i + 1] == ' '))
            {
                return true;
            }

            if (text[i] == '#' && i > position && text[i - 1] == ' ')
            {
                return false;
            }
        }

        return false;
    }

    private bool IsMappingEntryAfterQuote(int position, int end)
    {
        var i = position + 1;
        while (i < end)
        {
            if (text[i] == '\'')
            {
                if (i + 1 < end && text[i + 1] == '\'')
                {
                    i += 2;
                    continue;
                }

                break;
            }

            i++;
        }

        if (i >= end)
        {
            return false;
        }

        i = SkipSpaces(i + 1, end);
        return i < end && text[i] == ':' && (i + 1 == end || text[i + 1] == ' ');
    }

    private int SkipSpaces(int position, int end)
    {
        while (position < end && text[position] == ' ')
        {
            position++;
        }

        return position;
    }

    /// <summary>The position of a text index as YamlDotNet marks it; only needed once events are (positions in errors).</summary>
    public Mark Mark(int index)
    {
        var line = FindLine(index);
        return new Mark(index - origin, line.Number, index - line.Start + 1);
    }

    /// <summary>The last line starting at or before index (the first line when none does).</summary>
    private Line FindLine(int index)
    {
        if (lines.Count == 0)
        {
            return new Line(origin, origin, 0, 1);
        }

        var (low, high) = (0, lines.Count - 1);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (lines[middle].Start <= index)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return lines[low];
    }

    private static void Unsupported() => throw new BlockYamlUnsupportedException();
}

/// <summary>What <see cref="YamlEventTree"/> knows of an event without the event object.</summary>
internal enum YamlNodeKind : byte
{
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    MappingStart,
    MappingEnd,
    SequenceStart,
    SequenceEnd,
    Scalar,
}

/// <summary>
/// One event of <see cref="BlockYamlParser"/>'s output as a struct: its kind, scalar style or collection style, where it
/// starts and ends in the text, and a scalar's value as a range of the text (<see cref="Value"/> set only when escapes
/// made it differ from the text).
/// </summary>
internal readonly record struct YamlNode(
    YamlNodeKind Kind, ScalarStyle Style, bool Flow, int Start, int End, int ValueStart, int ValueLength, string? Value);

/// <summary>The text leaves <see cref="BlockYamlParser"/>'s subset; parse it with the full parser instead.</summary>
internal sealed class BlockYamlUnsupportedException : Exception
{
    public BlockYamlUnsupportedException()
        : base("outside the block-YAML subset")
    {
    }
}
