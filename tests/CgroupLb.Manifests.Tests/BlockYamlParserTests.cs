using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using k8s;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// The subset parser (<see cref="BlockYamlParser"/>) must give exactly YamlDotNet's events, or decline so that YamlDotNet
/// parses the document: checked on every manifest text of this test project (the raw string literals of its sources,
/// its builders, the shipped demo manifest), on single-character mutations of them, and on a list of YAML features
/// outside the subset.
/// </summary>
public partial class BlockYamlParserTests
{
    [Fact]
    public void Every_manifest_of_the_tests_parses_to_YamlDotNets_events_or_is_left_to_YamlDotNet()
    {
        var documents = Corpus().ToList();
        var parsedBySubset = 0;
        foreach (var (name, text, inPlace) in documents)
        {
            AssertSameEventsOrDeclined(name + " with CRLF line ends", text.ReplaceLineEndings("\r\n"));
            if (AssertSameEventsOrDeclined(name, text))
            {
                parsedBySubset++;
                // Parsed where it stands in its file's text, the document gives the events it gives on its own.
                Assert.Equal(
                    BlockYamlParser.Parse(text).Select(Describe),
                    BlockYamlParser.Parse(inPlace.Source, inPlace.Start, inPlace.Length).Select(Describe));
            }
        }

        // Not vacuous: the builders, the demo and most literal manifests are inside the subset.
        Assert.True(documents.Count > 100, $"only {documents.Count} documents in the corpus");
        Assert.True(parsedBySubset > documents.Count / 2, $"the subset parser took only {parsedBySubset} of {documents.Count} documents");
    }

    [Fact]
    public void The_builders_and_the_shipped_demo_manifest_stay_inside_the_subset()
    {
        var demo = File.ReadAllText(Path.Join(AppContext.BaseDirectory, "examples", "demo", "web.yaml"));
        foreach (var document in YamlDocumentSplitter.Split(demo).Select(d => d.Text).Concat(Builders()))
        {
            Assert.True(AssertSameEventsOrDeclined("builder or demo", document), $"declined:\n{document}");
        }
    }

    [Fact]
    public void Both_parsers_decode_equal_objects_and_errors_for_every_manifest_of_the_tests()
    {
        foreach (var (name, text, document) in Corpus())
        {
            var viaSubset = Describe(ManifestDocumentParser.Parse("m.yaml", document));
            var viaYamlDotNet = Describe(ManifestDocumentParser.Parse("m.yaml", document, d => YamlEventTree.ParseWithYamlDotNet(d.Text)));
            Assert.True(viaYamlDotNet == viaSubset, $"{name}:\n{text}\nYamlDotNet: {viaYamlDotNet}\nsubset: {viaSubset}");
        }
    }

    [Fact]
    public void Single_character_edits_of_manifests_parse_alike_or_are_left_to_YamlDotNet()
    {
        var random = new Random(20261128);
        const string Alphabet = " -:#'\"[]{},&*!|>?\n\\ax0.";
        var mutated = 0;
        foreach (var (name, text, _) in Corpus().Where(d => d.Text.Length < 2000).Take(60))
        {
            for (var i = 0; i < 40; i++)
            {
                var at = random.Next(text.Length);
                var variant = random.Next(3) switch
                {
                    0 => text.Remove(at, 1),
                    1 => text.Insert(at, Alphabet[random.Next(Alphabet.Length)].ToString()),
                    _ => text.Remove(at, 1).Insert(at, Alphabet[random.Next(Alphabet.Length)].ToString()),
                };
                AssertSameEventsOrDeclined($"{name}, edited at {at}", variant);
                mutated++;
            }
        }

        Assert.True(mutated > 1000, $"only {mutated} variants");
    }

    [Theory]
    [InlineData("a: &x 1\nb: *x\n")]
    [InlineData("a: !!str 1\n")]
    [InlineData("a: |\n  text\n")]
    [InlineData("a: >\n  folded\n")]
    [InlineData("a: plain\n  continued\n")]
    [InlineData("a: \"quoted\n  across lines\"\n")]
    [InlineData("a: [1,\n  2]\n")]
    [InlineData("? complex\n: key\n")]
    [InlineData("%YAML 1.2\n---\na: 1\n")]
    [InlineData("a:\n\t- 1\n")]
    [InlineData("- - nested\n")]
    [InlineData("a: b: c\n")]
    [InlineData("a: \"\\u00e9\"\n")]
    public void Yaml_outside_the_subset_is_left_to_YamlDotNet(string text)
    {
        Assert.Throws<BlockYamlUnsupportedException>(() => BlockYamlParser.Parse(text));
        // And the tree is still built, by YamlDotNet (or YamlDotNet's error is what the caller sees).
        try
        {
            Assert.NotEmpty(YamlEventTree.Parse(text).Events);
        }
        catch (YamlException)
        {
        }
    }

    [Theory]
    [InlineData("a: 1\nb:\n  - x\n  - 'y'\n  - \"z\"\nc:\n- indentless\nd:\ne: {k: v, l: [1, 2]}   # comment\n")]
    [InlineData("# leading comment\nlist:\n  - name: a\n    port: 80\n\n  - name: b\n    value: \"it's \\\"quoted\\\"\"\n")]
    [InlineData("key with spaces: value with:colon text # and a comment\nurl: http://example.com:8080/x\n'quoted key': 'it''s'\n")]
    [InlineData("empty: []\nnone: {}\nnull1: ~\nnull2: null\nneg: -1\nstr: -x\nlast:\n")]
    [InlineData("name: \"\u00e9\U0001F600\"\nflow: {a: \u00e9, b: \U0001F600, c: d}\nnext: x\n")]
    [InlineData("a: 1\r\nb:\r\n  - x\r\n  - {k: v}\r\n")]
    [InlineData("  indented: root\n  second: 2\n")]
    public void Typical_manifest_shapes_are_parsed_by_the_subset_parser_exactly_as_YamlDotNet_does(string text)
    {
        Assert.True(AssertSameEventsOrDeclined("shape", text), "declined");
    }

    /// <returns>True when the subset parser took the text (and agreed), false when it declined.</returns>
    private static bool AssertSameEventsOrDeclined(string name, string text)
    {
        List<ParsingEvent> subset;
        try
        {
            subset = BlockYamlParser.Parse(text);
        }
        catch (BlockYamlUnsupportedException)
        {
            return false;
        }

        var reference = new List<ParsingEvent>();
        try
        {
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                reference.Add(parser.Current!);
            }
        }
        catch (YamlException e)
        {
            Assert.Fail($"{name}: the subset parser accepted text YamlDotNet refuses ({e.Message}):\n{text}");
        }

        Assert.True(
            reference.Select(Describe).SequenceEqual(subset.Select(Describe)),
            $"{name}:\n{text}\nYamlDotNet: {string.Join(" ", reference.Select(Describe))}\nsubset:     {string.Join(" ", subset.Select(Describe))}");
        return true;
    }

    /// <summary>What the tree and the decoder read from an event: kind, value, style, anchor, tag, start position.</summary>
    private static string Describe(ParsingEvent e) => e switch
    {
        Scalar s => $"S({s.Value}|{s.Style}|{s.Anchor}|{s.Tag}|{s.Start.Line}:{s.Start.Column})",
        MappingStart m => $"M({m.Style}|{m.Anchor}|{m.Tag}|{m.Start.Line}:{m.Start.Column})",
        SequenceStart q => $"Q({q.Style}|{q.Anchor}|{q.Tag}|{q.Start.Line}:{q.Start.Column})",
        AnchorAlias a => $"A({a.Value})",
        _ => e.GetType().Name,
    };

    private static string Describe(IReadOnlyList<ManifestDocument> documents) => string.Join(" | ", documents.Select(d =>
        $"{d.Key} {d.Service} line {d.Line} item {d.ListItemIndex} errors [{string.Join("; ", d.Errors)}] ignored [{d.Ignored}] " +
        (d.Object is { } o ? KubernetesJson.Serialize(o.Object) : "no object")));

    private static IEnumerable<string> Builders() =>
    [
        Yaml.Service("web", "198.51.100.10", 8080, "shop"),
        Yaml.Service("web", "2001:db8::10"),
        Yaml.Slice("web-abc", "web", "198.18.1.2", "198.18.1.3"),
        Yaml.Slice("web-empty", "web"),
        Yaml.Node("demo-node"),
    ];

    /// <summary>Every document of the manifest texts this project holds, named by where it came from.</summary>
    internal static IEnumerable<(string Name, string Text, YamlDocumentText Document)> Corpus()
    {
        var texts = new List<(string, string)>();
        foreach (var builder in Builders())
        {
            texts.Add(("builder", builder));
        }

        texts.Add(("demo", File.ReadAllText(Path.Join(AppContext.BaseDirectory, "examples", "demo", "web.yaml"))));
        var sources = Directory.EnumerateFiles(SourceDirectory(), "*.cs")
            .Concat(Directory.EnumerateFiles(Path.Join(SourceDirectory(), "..", "CgroupLb.Agent.Tests"), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            var code = File.ReadAllText(source);
            foreach (Match literal in RegularStringLiteral().Matches(code))
            {
                if (literal.Value.Contains("\\n", StringComparison.Ordinal) && Unescape(literal.Groups["body"].Value) is { } body)
                {
                    texts.Add(($"{Path.GetFileName(source)} at offset {literal.Index}", body));
                }
            }

            foreach (Match literal in RawStringLiteral().Matches(code))
            {
                var indent = literal.Groups["indent"].Value;
                var body = string.Join("\n", literal.Groups["body"].Value.Split('\n').Select(l => l.StartsWith(indent, StringComparison.Ordinal) ? l[indent.Length..] : l.TrimStart()));
                texts.Add(($"{Path.GetFileName(source)} at offset {literal.Index}", body + "\n"));
            }
        }

        foreach (var (name, text) in texts)
        {
            foreach (var document in YamlDocumentSplitter.Split(text))
            {
                yield return ($"{name} doc {document.Index}", document.Text, document);
            }
        }
    }

    // C# escapes Regex.Unescape does not know (\U) leave the literal out.
    private static string? Unescape(string body)
    {
        try
        {
            return Regex.Unescape(body);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    // A C# raw string literal on lines of its own: the body, and the closing quotes' indentation that is cut from it.
    [GeneratedRegex("\"\"\"\\r?\\n(?<body>.*?)\\r?\\n(?<indent>[ ]*)\"\"\"", RegexOptions.Singleline)]
    private static partial Regex RawStringLiteral();

    // A one-line C# string literal with escapes ("apiVersion: v1\nkind: ..."), interpolation holes left as they are.
    [GeneratedRegex("(?<![\"@])\\$?\"(?<body>(?:[^\"\\\\\\n]|\\\\.)*)\"")]
    private static partial Regex RegularStringLiteral();
}
