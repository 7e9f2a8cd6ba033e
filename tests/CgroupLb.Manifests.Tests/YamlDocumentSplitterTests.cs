namespace CgroupLb.Manifests.Tests;

public class YamlDocumentSplitterTests
{
    [Fact]
    public void EmptyDocumentsAreSkippedAndTakeNoNumber()
    {
        var content = "---\na: 1\n---\n---\n# only a comment\n\n---\nb: 2\nc: 3\n";

        var documents = YamlDocumentSplitter.Split(content);

        Assert.Equal([0, 1], documents.Select(d => d.Index));
        Assert.Equal([2, 8], documents.Select(d => d.FirstLine));
        Assert.Equal("a: 1\n", documents[0].Text);
        Assert.Equal("b: 2\nc: 3\n", documents[1].Text);
    }

    [Fact]
    public void SeparatorMayCarryACommentButIndentedDashesAreContent()
    {
        var content = "a: |\n  ---\n  text\n--- # second\nb: 2\n";

        var documents = YamlDocumentSplitter.Split(content);

        Assert.Equal(2, documents.Count);
        Assert.Equal("a: |\n  ---\n  text\n", documents[0].Text);
        Assert.Equal(5, documents[1].FirstLine);
    }

    [Fact]
    public void SeparatorWithInlineContentOpensTheNextDocument()
    {
        var documents = YamlDocumentSplitter.Split("a: 1\n--- {b: 2}\n");

        Assert.Equal(2, documents.Count);
        Assert.Equal("--- {b: 2}\n", documents[1].Text);
        Assert.Equal(2, documents[1].FirstLine);
    }

    [Fact]
    public void FourDashesAreNotASeparator()
    {
        Assert.Single(YamlDocumentSplitter.Split("a: 1\n----\n"));
    }
}
