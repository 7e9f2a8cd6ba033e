using System.Runtime.CompilerServices;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace CgroupLb.Manifests;

/// <summary>
/// One YAML document parsed once into its event list, with each node's extent and each alias's target resolved, so the
/// identity fields, the typed object and error positions are all read from the same parse. Building it enforces
/// <see cref="YamlLimits"/> without expanding anything: an alias adds its target's expanded weight to a running sum.
/// Node indexes are event indexes. A tree the subset parser built keeps its compact nodes and makes event objects only
/// when asked for them (the JSON path and error positions): reading identity fields and the direct decoder need none.
/// </summary>
internal sealed class YamlEventTree
{
    private readonly BlockYamlParser? subset;
    private List<ParsingEvent>? events;
    private readonly int[] nodeEnd;
    private readonly Dictionary<int, int> aliasTarget;

    private YamlEventTree(List<ParsingEvent>? events, BlockYamlParser? subset, int[] nodeEnd, Dictionary<int, int> aliasTarget, List<int> roots)
    {
        this.events = events;
        this.subset = subset;
        this.nodeEnd = nodeEnd;
        this.aliasTarget = aliasTarget;
        Roots = roots;
    }

    /// <summary>
    /// Whether <see cref="BlockYamlParser"/> parsed the text: then there are no anchors, aliases or tags, and
    /// <see cref="ManifestDirectDecoder"/> may read the events straight into typed objects.
    /// </summary>
    public bool ParsedBySubset => subset is not null;

    /// <summary>The subset parser's compact nodes (null when YamlDotNet parsed the text); node indexes index them too.</summary>
    public List<YamlNode>? Nodes => subset?.Nodes;

    /// <summary>A scalar node's value, read from <see cref="Nodes"/>.</summary>
    public string NodeValue(int node) => subset!.ValueOf(subset.Nodes[node]);

    /// <summary>A scalar node's value from <see cref="Nodes"/>, without a copy where it can.</summary>
    public ReadOnlySpan<char> NodeValueSpan(int node) => subset!.ValueSpanOf(node);

    /// <summary>The root node of each YAML document in the text (normally one).</summary>
    public IReadOnlyList<int> Roots { get; }

    /// <summary>The events, in order; node indexes index them.</summary>
    public IReadOnlyList<ParsingEvent> Events => events ??= subset!.ToEvents();

    /// <summary>
    /// Parses with <see cref="BlockYamlParser"/> where the text stays in its subset (nearly every manifest), else with
    /// YamlDotNet, which then also words any error.
    /// </summary>
    /// <exception cref="YamlException">The text is not YAML.</exception>
    /// <exception cref="YamlLimitException">Too deep, an unknown alias, or too large once aliases are expanded.</exception>
    public static YamlEventTree Parse(string text) => Parse(new YamlDocumentText(0, 1, text));

    /// <inheritdoc cref="Parse(string)"/>
    public static YamlEventTree Parse(YamlDocumentText document)
    {
        BlockYamlParser parsed;
        try
        {
            parsed = BlockYamlParser.ParseNodes(document.Source, document.Start, document.Length);
        }
        catch (BlockYamlUnsupportedException)
        {
            return ParseWithYamlDotNet(document.Text);
        }

        return BuildFromNodes(parsed) ?? Build(document.Length, parsed.ToEvents(), parsed.Nodes.Count);
    }

    /// <summary>
    /// The tree of the subset parser's nodes. There are no aliases to expand, so the only limit that can apply is the
    /// depth: a document that reaches it is built from events instead, so its error is worded and placed as before.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static YamlEventTree? BuildFromNodes(BlockYamlParser parsed)
    {
        var nodes = parsed.Nodes;
        var ends = spareEnds is { } spare && spare.Length >= nodes.Count ? spare : new int[Math.Max(nodes.Count, 256)];
        spareEnds = null;
        var roots = new List<int>(1);
        var open = spareOpen ??= new Stack<int>();
        open.Clear();
        for (var index = 0; index < nodes.Count; index++)
        {
            ends[index] = index;
            switch (nodes[index].Kind)
            {
                case YamlNodeKind.MappingStart or YamlNodeKind.SequenceStart:
                    if (open.Count >= YamlLimits.MaxDepth)
                    {
                        spareEnds = ends;
                        return null;
                    }

                    if (open.Count == 0)
                    {
                        roots.Add(index);
                    }

                    open.Push(index);
                    break;
                case YamlNodeKind.MappingEnd or YamlNodeKind.SequenceEnd:
                    ends[open.Pop()] = index;
                    break;
                case YamlNodeKind.Scalar when open.Count == 0:
                    roots.Add(index);
                    break;
            }
        }

        // Without aliases the expanded size is the text's own (one unit per character and node): far inside the budget.
        return new YamlEventTree(null, parsed, ends, NoAliases, roots);
    }

    /// <summary>Always YamlDotNet's parser: the fallback, and the reference the subset parser is tested against.</summary>
    public static YamlEventTree ParseWithYamlDotNet(string text) => Build(text.Length, EventsOf(new Parser(new StringReader(text))), 0);

    private static IEnumerable<ParsingEvent> EventsOf(Parser parser)
    {
        while (parser.MoveNext())
        {
            yield return parser.Current!;
        }
    }

    private static YamlEventTree Build(int textLength, IEnumerable<ParsingEvent> source, int expectedEvents)
    {
        var budget = YamlLimits.ExpansionBudget(textLength);
        var events = new List<ParsingEvent>(expectedEvents);
        var ends = new List<int>(expectedEvents);
        var aliasTarget = new Dictionary<int, int>();
        var anchors = new Dictionary<string, int>(StringComparer.Ordinal);
        var weights = new Dictionary<int, long>();
        var roots = new List<int>();

        // Open collections: their start index and the weight summed so far.
        var open = new Stack<(int Start, long Weight)>();
        foreach (var current in source)
        {
            var index = events.Count;
            events.Add(current);
            ends.Add(index);
            switch (current)
            {
                case StreamStart or StreamEnd or DocumentStart or DocumentEnd:
                    continue;
                case MappingStart or SequenceStart:
                    if (open.Count == 0)
                    {
                        roots.Add(index);
                    }

                    if (open.Count >= YamlLimits.MaxDepth)
                    {
                        throw new YamlLimitException(current.Start, $"nesting deeper than {YamlLimits.MaxDepth} levels");
                    }

                    open.Push((index, 1));
                    continue;
                case MappingEnd or SequenceEnd:
                    var (start, weight) = open.Pop();
                    ends[start] = index;
                    Completed(start, weight, current.Start);
                    continue;
                case Scalar scalar:
                    if (open.Count == 0)
                    {
                        roots.Add(index);
                    }

                    Completed(index, 1 + scalar.Value.Length, current.Start);
                    continue;
                case AnchorAlias alias:
                    if (open.Count == 0)
                    {
                        roots.Add(index);
                    }

                    if (!anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        throw new YamlLimitException(current.Start, $"alias *{alias.Value.Value} names no anchor before it");
                    }

                    aliasTarget[index] = target;
                    Completed(index, weights[target], current.Start);
                    continue;
            }
        }

        return new YamlEventTree(events, null, [.. ends], aliasTarget, roots);

        void Completed(int node, long weight, Mark where)
        {
            if (events[node] is NodeEvent { Anchor.IsEmpty: false } anchored)
            {
                anchors[anchored.Anchor.Value] = node;
                weights[node] = weight;
            }
            else if (events[node] is AnchorAlias)
            {
                weights[node] = weight;
            }

            if (open.Count > 0)
            {
                var (start, sum) = open.Pop();
                sum += weight;
                if (sum > budget)
                {
                    throw new YamlLimitException(where, $"expands to more than {budget} characters through aliases (anchors referenced too often); refused");
                }

                open.Push((start, sum));
            }
            else if (weight > budget)
            {
                throw new YamlLimitException(where, $"expands to more than {budget} characters through aliases (anchors referenced too often); refused");
            }
        }
    }

    [ThreadStatic]
    private static int[]? spareEnds;

    [ThreadStatic]
    private static Stack<int>? spareOpen;

    // A subset tree has no aliases; its lookups read this one empty table, which nothing ever adds to.
    private static readonly Dictionary<int, int> NoAliases = [];

    /// <summary>
    /// Hands the subset parser's buffers to the next document parsed on this thread (<see cref="BlockYamlParser.Release"/>).
    /// The tree must not be used afterwards; nothing read from it (values, events, decoded objects) refers to them.
    /// </summary>
    public void Release()
    {
        if (subset is null)
        {
            return;
        }

        subset.Release();
        if (nodeEnd.Length <= 1 << 16)
        {
            spareEnds = nodeEnd;
        }
    }

    public ParsingEvent this[int node] => Events[node];

    /// <summary>The node itself, or the anchored node an alias stands for.</summary>
    public int Resolve(int node) => aliasTarget.TryGetValue(node, out var target) ? target : node;

    /// <summary>The index just past a node (and its children).</summary>
    public int Next(int node) => nodeEnd[node] + 1;

    public bool IsMapping(int node) => subset is { } s ? s.Nodes[node].Kind == YamlNodeKind.MappingStart : events![Resolve(node)] is MappingStart;

    public bool IsSequence(int node) => subset is { } s ? s.Nodes[node].Kind == YamlNodeKind.SequenceStart : events![Resolve(node)] is SequenceStart;

    /// <summary>The scalar's value when the node (through an alias) is a scalar; null otherwise.</summary>
    public string? ScalarValue(int node) => subset is { } s
        ? (s.Nodes[node].Kind == YamlNodeKind.Scalar ? s.ValueOf(s.Nodes[node]) : null)
        : events![Resolve(node)] is Scalar scalar ? scalar.Value : null;

    private bool IsMappingEnd(int index) => subset is { } s ? s.Nodes[index].Kind == YamlNodeKind.MappingEnd : events![index] is MappingEnd;

    private bool IsSequenceEnd(int index) => subset is { } s ? s.Nodes[index].Kind == YamlNodeKind.SequenceEnd : events![index] is SequenceEnd;

    /// <summary>A mapping's key and value nodes in order (no merge keys applied).</summary>
    public IEnumerable<(int Key, int Value)> Pairs(int mapping)
    {
        mapping = Resolve(mapping);
        var i = mapping + 1;
        while (!IsMappingEnd(i))
        {
            var value = Next(i);
            yield return (i, value);
            i = Next(value);
        }
    }

    /// <summary>A sequence's item nodes in order.</summary>
    public IEnumerable<int> Items(int sequence)
    {
        sequence = Resolve(sequence);
        var i = sequence + 1;
        while (!IsSequenceEnd(i))
        {
            yield return i;
            i = Next(i);
        }
    }

    /// <summary>The key and value of a mapping's field, by plain key text; null when absent.</summary>
    public (int Key, int Value)? Field(int mapping, string name)
    {
        if (subset is { } s)
        {
            for (var key = mapping + 1; s.Nodes[key].Kind != YamlNodeKind.MappingEnd; key = Next(Next(key)))
            {
                if (s.Nodes[key].Kind == YamlNodeKind.Scalar && s.ValueSpanOf(key).SequenceEqual(name))
                {
                    return (key, Next(key));
                }
            }

            return null;
        }

        foreach (var pair in Pairs(mapping))
        {
            if (events![Resolve(pair.Key)] is Scalar key && key.Value == name)
            {
                return pair;
            }
        }

        return null;
    }

    public string? ScalarField(int mapping, string name) => Field(mapping, name) is { } field ? ScalarValue(field.Value) : null;

    /// <summary>As <see cref="ScalarField"/>, for fields whose values repeat across documents (<see cref="RepeatedText"/>).</summary>
    public string? RepeatedScalarField(int mapping, string name) =>
        subset is { } s && Field(mapping, name) is { } field
            ? (s.Nodes[field.Value].Kind == YamlNodeKind.Scalar ? RepeatedText.Of(s.ValueSpanOf(field.Value)) : null)
            : ScalarField(mapping, name);

    public int? MappingField(int mapping, string name) =>
        Field(mapping, name) is { } field && IsMapping(field.Value) ? field.Value : null;
}
