namespace CgroupLb.Manifests.Tests;

public class ManifestReaderTests
{
    [Fact]
    public void DirectoryIsReadRecursivelyInOrdinalPathOrderSkippingHiddenAndForeignFiles()
    {
        using var dir = new TempDirectory();
        dir.Write("b.yaml", Yaml.Service("b", "198.51.100.2"));
        dir.Write("a.yml", Yaml.Service("a", "198.51.100.1"));
        dir.Write("a-z/c.json", """{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "c"}}""");
        dir.Write("sub/deeper/d.YAML", Yaml.Node("d"));
        dir.Write("notes.txt", "apiVersion: v1\nkind: Node\nmetadata: {name: txt}\n");
        dir.Write(".web.yaml.swp", Yaml.Node("swap"));
        // A mounted ConfigMap: the real files live under ..data; only the top-level links count.
        dir.Write("..2026_11_27/e.yaml", Yaml.Node("configmap-twin"));

        var read = new ManifestReader().Read(dir.Path);

        Assert.Equal(
            ["a-z/c.json", "a.yml", "b.yaml", "sub/deeper/d.YAML"],
            read.Files.Select(f => Path.GetRelativePath(dir.Path, f.File)));
        Assert.Equal(["c", "a", "b", "d"], read.Objects.Select(o => o.Key.Name));
        Assert.Empty(read.Errors);
    }

    [Fact]
    public void ReadingTwiceGivesTheSameOrder()
    {
        using var dir = new TempDirectory();
        foreach (var name in new[] { "m", "c", "x", "a", "q" })
        {
            dir.Write($"{name}.yaml", Yaml.Node(name));
        }

        var reader = new ManifestReader();

        Assert.Equal(["a", "c", "m", "q", "x"], reader.Read(dir.Path).Objects.Select(o => o.Key.Name));
        Assert.Equal(
            reader.Read(dir.Path).Objects.Select(o => o.File),
            reader.Read(dir.Path).Objects.Select(o => o.File));
    }

    [Fact]
    public void FileNamesAreTheConfiguredPathJoinedWithTheRelativePath()
    {
        using var dir = new TempDirectory();
        dir.Write("demo/web.yaml", Yaml.Node("n"));

        var read = new ManifestReader().Read(dir.Path + "/");

        Assert.Equal(dir.Path + "/demo/web.yaml", Assert.Single(read.Files).File);
    }

    [Fact]
    public void LaterDuplicateIdentityIsAnErrorAndTheFirstDefinitionWins()
    {
        using var dir = new TempDirectory();
        dir.Write("a.yaml", Yaml.Service("web", "198.51.100.1"));
        dir.Write("b.yaml", Yaml.Documents(Yaml.Node("n"), Yaml.Service("web", "198.51.100.2", @namespace: "default")));

        var read = new ManifestReader().Read(dir.Path);

        var service = Assert.Single(read.Objects, o => o.Key.Kind == ManifestKind.Service);
        Assert.Equal(dir.File("a.yaml"), service.File);
        var error = Assert.Single(read.Errors);
        Assert.Equal(
            $"{dir.File("b.yaml")} doc 1 (Service default/web): duplicate: Service default/web is already defined in {dir.File("a.yaml")} doc 0",
            error.ToString());
    }

    [Fact]
    public void SingleFilePathIsRead()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.1"), Yaml.Node("n")));

        var read = new ManifestReader().Read(path);

        Assert.Equal([path, path], read.Objects.Select(o => o.File));
    }

    [Fact]
    public void MissingPathIsAnErrorForReadAndAnExceptionForThrowIfMissing()
    {
        using var dir = new TempDirectory();
        var missing = dir.File("nope");

        var read = new ManifestReader().Read(missing);

        Assert.Empty(read.Files);
        Assert.Equal($"{missing}: path does not exist", Assert.Single(read.Errors).ToString());
        var thrown = Assert.Throws<ManifestPathNotFoundException>(() => ManifestPathNotFoundException.ThrowIfMissing(missing));
        Assert.Equal(missing, thrown.Path);
        Assert.Contains($"'{missing}'", thrown.Message);
    }

    [Fact]
    public void UnreadableFileIsReportedAndMarkedUnknownWhileTheOthersLoad()
    {
        using var dir = new TempDirectory();
        dir.Write("a.yaml", Yaml.Node("a"));
        var locked = dir.Write("b.yaml", Yaml.Node("b"));
        // Tests run as root, which reads any file whatever its mode, so the denial is injected.
        var reader = new ManifestReader(path => path == locked
            ? throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.")
            : File.ReadAllBytes(path));

        var read = reader.Read(dir.Path);

        Assert.Equal(["a"], read.Objects.Select(o => o.Key.Name));
        Assert.Equal($"{locked}: cannot read: Access to the path '{locked}' is denied.", Assert.Single(read.Errors).ToString());
        Assert.Contains(locked, read.FilesWithUnknownContent);
    }

    [Fact]
    public void FileThatIsNotUtf8IsUnreadable()
    {
        using var dir = new TempDirectory();
        var path = dir.File("latin1.yaml");
        File.WriteAllBytes(path, [.. "kind: Node\n# caf"u8, 0xE9, (byte)'\n']);

        var read = new ManifestReader().Read(dir.Path);

        Assert.Equal($"{path}: is not UTF-8 text (invalid byte at offset 16)", Assert.Single(read.Errors).ToString());
        Assert.Contains(path, read.FilesWithUnknownContent);
    }

    [Fact]
    public void InvalidDocumentWithKnownIdentityIsMarkedByKeyAndWithoutIdentityByFile()
    {
        var file = ManifestReader.ParseFile("m.yaml", Yaml.Documents(
            Yaml.Service("web", "not-an-ip"),
            "apiVersion: v1\nkind: Service\nmetadata: [\n"));

        var read = ManifestReadResult.Create("m.yaml", [file]);

        Assert.Equal([new ManifestObjectKey(ManifestKind.Service, "default", "web")], read.InvalidKeys);
        Assert.Equal(["m.yaml"], read.FilesWithUnknownContent);
        Assert.Equal(2, read.Errors.Count);
    }

    [Fact]
    public void AFileLargeEnoughToBeParsedInParallelGivesEveryDocumentInOrderWithItsOwnLineAndErrors()
    {
        int count = 2 * ManifestReader.ParallelParseMinDocuments + 7;
        var documents = Enumerable.Range(0, count).Select(i => i % 3 == 2
            ? Yaml.Slice($"svc-{i - 1}-abc", $"svc-{i - 1}", $"198.19.{i >> 8}.{i & 0xff}")
            : Yaml.Service($"svc-{i}", i % 41 == 7 ? "not-an-address" : $"198.18.{i >> 8}.{i & 0xff}")).ToArray();
        var content = Yaml.Documents(documents);

        var file = ManifestReader.ParseFile("big.yaml", content);

        Assert.Equal(count, file.Documents.Count);
        int firstLine = 1;
        for (int i = 0; i < count; i++)
        {
            var document = file.Documents[i];
            var alone = Assert.Single(ManifestReader.ParseFile("big.yaml", documents[i]).Documents);
            Assert.Equal(i, document.DocumentIndex);
            Assert.Equal(firstLine, document.Line);
            Assert.Equal(alone.Key, document.Key);
            Assert.Equal(alone.Errors.Select(e => e.Reason), document.Errors.Select(e => e.Reason));
            Assert.All(document.Errors, e => Assert.Equal(i, e.DocumentIndex));
            Assert.Equal(i % 3 != 2 && i % 41 == 7, document.Errors.Count > 0);
            firstLine += documents[i].Count(c => c == '\n') + 1; // the document, then its "---" line
        }
    }
}
