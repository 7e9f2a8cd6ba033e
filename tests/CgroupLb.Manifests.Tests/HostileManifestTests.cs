using System.Diagnostics;
using System.Text;
using CgroupLb.Testing.Time;
using k8s.Models;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// Input built to hurt the agent costs one refused document and never its memory, its stack or its liveness: alias
/// expansion bombs, deep nesting, oversized files and FIFOs. Each bad document is named with the file and index, and
/// its neighbours still load.
/// </summary>
public class HostileManifestTests
{
    private static ManifestError SingleError(ManifestFileResult file) => Assert.Single(file.Documents.SelectMany(d => d.Errors));

    private static void AssertNeighboursLoad(ManifestFileResult file) => Assert.Equal(
        ["Service default/first", "Service default/last"],
        file.Documents.Where(d => d.Object is not null).Select(d => d.Object!.Key.ToString()));

    private static ManifestFileResult Surrounded(string badDocument) =>
        ManifestReader.ParseFile("bad.yaml", Yaml.Documents(Yaml.Service("first", "198.51.100.1"), badDocument, Yaml.Service("last", "198.51.100.3")));

    [Fact]
    public void AMegabyteStringReferencedAThousandTimesIsRefusedWithoutExpandingIt()
    {
        var bomb = new StringBuilder("apiVersion: v1\nkind: Service\nmetadata:\n  name: bomb\n  annotations:\n    big: &big \"")
            .Append('x', 1024 * 1024).Append("\"\nspec:\n  externalIPs:\n");
        for (var i = 0; i < 1000; i++)
        {
            bomb.Append("  - *big\n");
        }

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var file = Surrounded(bomb.ToString());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        var error = SingleError(file);
        Assert.Equal(1, error.DocumentIndex);
        // Refused while parsing, before anything is decoded: the file counts as not completely read, so every object it
        // defined keeps its last good state.
        Assert.Null(error.ObjectName);
        Assert.Contains("through aliases", error.Reason);
        AssertNeighboursLoad(file);
        // Expanded, the document would be 1 GiB of text (2 GiB as .NET strings); reading it costs a few copies of 1 MiB.
        Assert.True(allocated < 64L * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void NestedAliasesThatMultiplyAreRefused()
    {
        var laughs = new StringBuilder("apiVersion: v1\nkind: Service\nmetadata:\n  name: laughs\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 10; i++)
        {
            laughs.Append($"x{i}: &x{i} [").AppendJoin(", ", Enumerable.Repeat($"*x{i - 1}", 10)).Append("]\n");
        }

        var file = Surrounded(laughs.ToString());

        Assert.Contains("through aliases", SingleError(file).Reason);
        AssertNeighboursLoad(file);
    }

    [Fact]
    public void DeepNestingIsRefusedNotAStackOverflow()
    {
        var deep = "apiVersion: v1\nkind: Service\nmetadata:\n  name: deep\nspec: " + new string('[', 100_000) + new string(']', 100_000) + "\n";

        var file = Surrounded(deep);

        var error = SingleError(file);
        Assert.Contains("nesting deeper than", error.Reason);
        AssertNeighboursLoad(file);
    }

    [Fact]
    public void AnAliasWithoutAnAnchorIsAnError()
    {
        var file = Surrounded("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec: *nowhere\n");

        Assert.Contains("names no anchor", SingleError(file).Reason);
        AssertNeighboursLoad(file);
    }

    [Fact]
    public void ModestAliasesAndMergeKeysStillWork()
    {
        var content = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              labels: &labels {app: web}
            spec:
              clusterIP: 198.51.100.10
              selector: *labels
              ports:
                - &http {name: http, port: 80, protocol: TCP}
                - <<: *http
                  name: alt
                  port: 8080
            """;

        var service = (V1Service)Assert.Single(ManifestReader.ParseFile("web.yaml", content).Documents).Object!.Object;

        Assert.Equal("web", service.Spec.Selector["app"]);
        Assert.Equal([("http", 80, "TCP"), ("alt", 8080, "TCP")], service.Spec.Ports.Select(p => (p.Name, p.Port, p.Protocol)));
    }

    [Fact]
    public void AFileAboveTheSizeLimitIsNotReadAndNamedInAnError()
    {
        using var dir = new TempDirectory();
        var big = dir.Write("big.yaml", Yaml.Service("big", "198.51.100.1") + new string('#', 4096) + "\n");
        dir.Write("small.yaml", Yaml.Service("small", "198.51.100.2"));

        var read = new ManifestReader(maxFileBytes: 1024).Read(dir.Path);

        var error = Assert.Single(read.Errors);
        Assert.Equal(big, error.File);
        Assert.Contains("more than the limit of 1024 bytes", error.Reason);
        Assert.Contains(big, read.FilesWithUnknownContent);
        Assert.Equal(["Service default/small"], read.Objects.Select(o => o.Key.ToString()));
    }

    [Fact]
    public async Task AFifoIsSkippedWithoutBlocking()
    {
        using var dir = new TempDirectory();
        dir.Write("web.yaml", Yaml.Service("web", "198.51.100.1"));
        var fifo = dir.File("pipe.yaml");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // Opening a FIFO for reading blocks until a writer comes; the reader must not.
        var read = await Task.Run(() => new ManifestReader().Read(dir.Path)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["Service default/web"], read.Objects.Select(o => o.Key.ToString()));
        Assert.Empty(read.Errors);
        var skipped = Assert.Single(read.Skipped);
        Assert.Equal(fifo, skipped.File);
        Assert.Contains("not a regular file", skipped.Reason);
    }

    [Fact]
    public void UnchangedFilesAreNotReadAgainAndUnchangedDocumentsNotParsedAgain()
    {
        using var dir = new TempDirectory();
        dir.Write("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.1"), Yaml.Service("api", "198.51.100.2")));
        dir.Write("other.yaml", Yaml.Service("other", "198.51.100.3"));
        var clock = new CountingFakeTimeProvider();
        var reader = new ManifestReader(ManifestReader.DefaultMaxFileBytes, clock);
        var first = reader.Read(dir.Path);
        Assert.Equal(2, reader.FilesReadLastPass);

        // Stamps are trusted only once the files are older than the racy window (a same-size write in the same tick).
        clock.Advance(TimeSpan.FromSeconds(2.2));
        var settled = reader.Read(dir.Path);
        var again = reader.Read(dir.Path);
        Assert.Same(settled, again);
        Assert.Equal(0, reader.FilesReadLastPass);

        dir.Replace("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.1"), Yaml.Service("api", "198.51.100.20")));
        var edited = reader.Read(dir.Path);

        Assert.Equal(1, reader.FilesReadLastPass);
        var before = first.Objects.ToDictionary(o => o.Key.ToString(), o => o.Object);
        var after = edited.Objects.ToDictionary(o => o.Key.ToString(), o => o.Object);
        Assert.Same(before["Service default/web"], after["Service default/web"]);
        Assert.Same(before["Service default/other"], after["Service default/other"]);
        Assert.NotSame(before["Service default/api"], after["Service default/api"]);
        Assert.Equal("198.51.100.20", ((V1Service)after["Service default/api"]).Spec.ClusterIP);
    }

    [Fact]
    public void ADocumentThatMovedIsReusedAtItsNewPlace()
    {
        using var dir = new TempDirectory();
        dir.Write("web.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.1"), Yaml.Service("api", "198.51.100.2")));
        var reader = new ManifestReader();
        var first = reader.Read(dir.Path);

        dir.Replace("web.yaml", Yaml.Documents(Yaml.Node("n1"), Yaml.Service("web", "198.51.100.1"), Yaml.Service("api", "198.51.100.2")));
        var moved = reader.Read(dir.Path);

        var web = Assert.Single(moved.Objects, o => o.Key.ToString() == "Service default/web");
        Assert.Same(first.Objects.Single(o => o.Key.ToString() == "Service default/web").Object, web.Object);
        Assert.Equal(1, web.DocumentIndex);
        var document = moved.Files.Single().Documents.Single(d => d.Object == web);
        Assert.Equal(1, document.DocumentIndex);
        Assert.True(document.Line > 1);
    }
}
