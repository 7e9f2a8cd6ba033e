using k8s.Models;

namespace CgroupLb.Manifests.Tests;

public class ManifestReconcilerTests
{
    private readonly ManifestReconciler reconciler = new();

    private static ManifestReadResult Read(params (string File, string Content)[] files) =>
        ManifestReadResult.Create("dir", [.. files.Select(f => ManifestReader.ParseFile(f.File, f.Content))]);

    private static string Describe(ManifestChange change) =>
        $"{(change.Previous is null ? "+" : change.Current is null ? "-" : "~")}{change.Key}";

    [Fact]
    public void FirstReadCreatesEverythingOrderedByKindThenName()
    {
        var result = reconciler.Reconcile(Read(
            ("a.yaml", Yaml.Documents(Yaml.Node("n1"), Yaml.Slice("web-1", "web", "198.18.1.2"))),
            ("b.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Service("api", "198.51.100.11")))));

        Assert.Equal(
            ["+Service default/api", "+Service default/web", "+EndpointSlice default/web-1", "+Node n1"],
            result.Changes.Select(Describe));
        Assert.Empty(result.Retained);
        Assert.False(result.RecheckSoon);
    }

    [Fact]
    public void RereadingUnchangedContentReportsNothing()
    {
        var content = Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", "198.18.1.2"));
        reconciler.Reconcile(Read(("a.yaml", content)));

        var result = reconciler.Reconcile(Read(("a.yaml", content)));

        Assert.Empty(result.Changes);
    }

    [Fact]
    public void EditIsOneUpdateCarryingPreviousAndCurrent()
    {
        reconciler.Reconcile(Read(("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"))));

        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.2", "198.18.2.2"))));

        var change = Assert.Single(result.Changes);
        Assert.Equal(["198.18.1.2"], ((V1EndpointSlice)change.Previous!).Endpoints.SelectMany(e => e.Addresses));
        Assert.Equal(["198.18.1.2", "198.18.2.2"], ((V1EndpointSlice)change.Current!).Endpoints.SelectMany(e => e.Addresses));
    }

    [Fact]
    public void ReleasedBodyIsNeverReportedAsACurrentStateAndAFreshReadRestoresIt()
    {
        var a = ManifestReader.ParseFile("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"));
        reconciler.Reconcile(ManifestReadResult.Create("dir", [a]));
        reconciler.ReleaseReportedBodies();
        Assert.False(reconciler.NeedsFreshRead(ManifestReadResult.Create("dir", [a])));
        Assert.Empty(reconciler.Reconcile(ManifestReadResult.Create("dir", [a])).Changes);

        // Another definition takes over; then it is gone and a.yaml's released (cached) definition is current again.
        var takeover = reconciler.Reconcile(ManifestReadResult.Create("dir", [ManifestReader.ParseFile("0.yaml", Yaml.Slice("web-1", "web", "198.18.9.9")), a]));
        Assert.Equal(["~EndpointSlice default/web-1"], takeover.Changes.Select(Describe));
        reconciler.ReleaseReportedBodies();
        var cached = ManifestReadResult.Create("dir", [a]);
        Assert.True(reconciler.NeedsFreshRead(cached));
        Assert.Throws<InvalidOperationException>(() => reconciler.Reconcile(cached));

        var fresh = ManifestReadResult.Create("dir", [ManifestReader.ParseFile("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"))]);
        Assert.False(reconciler.NeedsFreshRead(fresh));
        var change = Assert.Single(reconciler.Reconcile(fresh).Changes);
        Assert.Equal(["198.18.1.2"], ((V1EndpointSlice)change.Current!).Endpoints.SelectMany(e => e.Addresses));
        Assert.Equal("web-1", change.Previous!.Metadata.Name);
        Assert.Null(((V1EndpointSlice)change.Previous).Endpoints);
    }

    [Fact]
    public void FreshParseOfUnchangedTextAfterReleaseKeepsNoBody()
    {
        var content = Yaml.Slice("web-1", "web", "198.18.1.2");
        reconciler.Reconcile(Read(("a.yaml", content)));
        reconciler.ReleaseReportedBodies();

        var again = Read(("a.yaml", content));
        Assert.Empty(reconciler.Reconcile(again).Changes);

        // The reader caches what it parsed: that copy is released too, and still counts as what was reported.
        Assert.True(again.Objects.Single().IsReleased);
        Assert.False(reconciler.NeedsFreshRead(again));
    }

    [Fact]
    public void DocumentRemovedFromAFileDeletesItsObject()
    {
        reconciler.Reconcile(Read(("a.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Node("n1")))));

        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Node("n1"))));

        Assert.Equal(["-Service default/web"], result.Changes.Select(Describe));
    }

    [Fact]
    public void InvalidDocumentKeepsTheLastGoodStateUntilItIsFixed()
    {
        var first = reconciler.Reconcile(Read(("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"))));
        var good = first.Changes.Single().Current;

        var broken = reconciler.Reconcile(Read(("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.999"))));

        Assert.Empty(broken.Changes);
        var retention = Assert.Single(broken.Retained);
        Assert.Same(good, retention.Object.Object);
        Assert.Equal("EndpointSlice default/web-1 from a.yaml: its document is invalid", retention.ToString());

        var fixedUp = reconciler.Reconcile(Read(("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.3"))));

        var change = Assert.Single(fixedUp.Changes);
        Assert.Same(good, change.Previous);
        Assert.Equal("198.18.1.3", ((V1EndpointSlice)change.Current!).Endpoints.Single().Addresses.Single());
        Assert.Empty(fixedUp.Retained);
    }

    [Fact]
    public void InvalidDocumentThatIsThenRemovedDeletesTheObject()
    {
        reconciler.Reconcile(Read(("a.yaml", Yaml.Documents(Yaml.Node("n1"), Yaml.Service("web", "198.51.100.10")))));
        reconciler.Reconcile(Read(("a.yaml", Yaml.Documents(Yaml.Node("n1"), Yaml.Service("web", "198.51.100.999")))));

        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Node("n1"))));

        Assert.Equal(["-Service default/web"], result.Changes.Select(Describe));
    }

    [Fact]
    public void DocumentTooBrokenToNameItsObjectKeepsEveryObjectOfItsFileOnly()
    {
        reconciler.Reconcile(Read(
            ("a.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Node("n1"))),
            ("b.yaml", Yaml.Documents(Yaml.Service("api", "198.51.100.11"), Yaml.Node("n2")))));

        // a.yaml: the Service document lost its identity to a syntax error. b.yaml: a document was really removed.
        var result = reconciler.Reconcile(Read(
            ("a.yaml", Yaml.Documents("apiVersion: v1\nkind: Service\nmetadata: {name: web\n", Yaml.Node("n1"))),
            ("b.yaml", Yaml.Node("n2"))));

        Assert.Equal(["-Service default/api"], result.Changes.Select(Describe));
        Assert.Equal(
            ["Service default/web from a.yaml: its file could not be read completely"],
            result.Retained.Select(r => r.ToString()));
    }

    [Fact]
    public void UnreadableFileKeepsItsObjects()
    {
        reconciler.Reconcile(Read(("a.yaml", Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Node("n1")))));

        var result = reconciler.Reconcile(ManifestReadResult.Create("dir", [ManifestFileResult.Unreadable("a.yaml", "cannot read: denied")]));

        Assert.Empty(result.Changes);
        Assert.Equal(["Service default/web", "Node n1"], result.Retained.Select(r => r.Object.Key.ToString()));
    }

    [Fact]
    public void UnlistableDirectoryKeepsTheObjectsBelowIt()
    {
        reconciler.Reconcile(Read(("dir/sub/a.yaml", Yaml.Node("n1")), ("dir/subway.yaml", Yaml.Node("n2"))));

        var result = reconciler.Reconcile(ManifestReadResult.Create(
            "dir", [], [new ManifestError("dir/sub", null, null, "cannot list directory: denied")], ["dir/sub"]));

        Assert.Empty(result.Changes);
        Assert.Equal(
            [
                "Node n1 from dir/sub/a.yaml: its directory cannot be listed",
                "Node n2 from dir/subway.yaml: its file vanished; deleting if it is still gone on the next read",
            ],
            result.Retained.Select(r => r.ToString()));
        Assert.True(result.RecheckSoon);
    }

    [Fact]
    public void VanishedFileIsDeletedOnlyWhenStillGoneOnTheNextRead()
    {
        reconciler.Reconcile(Read(("a.yaml", Yaml.Service("web", "198.51.100.10")), ("b.yaml", Yaml.Node("n1"))));

        var first = reconciler.Reconcile(Read(("b.yaml", Yaml.Node("n1"))));

        Assert.Empty(first.Changes);
        Assert.True(first.RecheckSoon);
        Assert.Equal(
            ["Service default/web from a.yaml: its file vanished; deleting if it is still gone on the next read"],
            first.Retained.Select(r => r.ToString()));

        var second = reconciler.Reconcile(Read(("b.yaml", Yaml.Node("n1"))));

        Assert.Equal(["-Service default/web"], second.Changes.Select(Describe));
        Assert.False(second.RecheckSoon);
    }

    [Fact]
    public void FileThatReappearsAfterABriefAbsenceChangesNothing()
    {
        var content = Yaml.Service("web", "198.51.100.10");
        reconciler.Reconcile(Read(("a.yaml", content)));
        reconciler.Reconcile(Read());

        var result = reconciler.Reconcile(Read(("a.yaml", content)));

        Assert.Empty(result.Changes);
        Assert.False(result.RecheckSoon);
    }

    [Fact]
    public void ObjectMovedToAnotherFileIsNotAChangeButIsTrackedAtItsNewPlace()
    {
        reconciler.Reconcile(Read(("a.yaml", Yaml.Service("web", "198.51.100.10")), ("b.yaml", Yaml.Node("n1"))));

        var moved = reconciler.Reconcile(Read(("b.yaml", Yaml.Documents(Yaml.Node("n1"), Yaml.Service("web", "198.51.100.10")))));

        Assert.Empty(moved.Changes);
        Assert.False(moved.RecheckSoon);
        Assert.Equal("b.yaml", reconciler.Reported.Single(o => o.Key.Kind == ManifestKind.Service).File);
    }
}
