using CgroupLb.Model.Kubernetes;
using k8s.Models;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// An invalid document with no last good state (the agent restarted while it was broken) holds its service, so the
/// maps keep what a previous run wrote for it, until the document is fixed or positively removed.
/// </summary>
public class ManifestHoldTests
{
    private static readonly ServiceName Web = new("default", "web");
    private readonly ManifestReconciler reconciler = new();

    private static ManifestReadResult Read(params (string File, string Content)[] files) =>
        ManifestReadResult.Create("dir", [.. files.Select(f => ManifestReader.ParseFile(f.File, f.Content))]);

    private static string Describe(ManifestChange change) =>
        $"{(change.Previous is null ? "+" : change.Current is null ? "-" : "~")}{change.Key}";

    private static string WebWithBrokenSlice() =>
        Yaml.Documents(Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", "198.18.1.999"));

    [Fact]
    public void InvalidSliceWithoutLastGoodStateHoldsTheServiceItsLabelNames()
    {
        var result = reconciler.Reconcile(Read(("a.yaml", WebWithBrokenSlice())));

        Assert.Equal(["+Service default/web"], result.Changes.Select(Describe));
        Assert.Equal([Web], result.HoldsAcquired);
        Assert.Empty(result.HoldsReleased);
        Assert.Equal(
            ["Service default/web: EndpointSlice default/web-1 from a.yaml doc 1: its document is invalid and there is no last good state"],
            result.Holds.Select(h => h.ToString()));
        Assert.Empty(result.Retained);
    }

    [Fact]
    public void InvalidServiceWithoutLastGoodStateHoldsItselfInItsNamespace()
    {
        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Documents(
            Yaml.Service("web", "198.51.100.999", @namespace: "shop"),
            Yaml.Slice("web-1", "web", "198.18.1.2")))));

        Assert.Equal(["+EndpointSlice default/web-1"], result.Changes.Select(Describe));
        Assert.Equal([new ServiceName("shop", "web")], result.HoldsAcquired);
        Assert.Equal(new ManifestObjectKey(ManifestKind.Service, "shop", "web"), result.Holds.Single().Object);
    }

    [Fact]
    public void RereadingTheSameInvalidDocumentFlipsNothing()
    {
        reconciler.Reconcile(Read(("a.yaml", WebWithBrokenSlice())));

        var again = reconciler.Reconcile(Read(("a.yaml", WebWithBrokenSlice())));

        Assert.Empty(again.Changes);
        Assert.Empty(again.HoldsAcquired);
        Assert.Empty(again.HoldsReleased);
        Assert.Equal([Web], again.Holds.Select(h => h.Service));
    }

    [Fact]
    public void FixingTheDocumentDeliversTheObjectAndReleasesTheHold()
    {
        reconciler.Reconcile(Read(("a.yaml", WebWithBrokenSlice())));

        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Documents(
            Yaml.Service("web", "198.51.100.10"), Yaml.Slice("web-1", "web", "198.18.1.2")))));

        var change = Assert.Single(result.Changes);
        Assert.Equal("+EndpointSlice default/web-1", Describe(change));
        Assert.Equal("198.18.1.2", ((V1EndpointSlice)change.Current!).Endpoints.Single().Addresses.Single());
        Assert.Equal([Web], result.HoldsReleased);
        Assert.Empty(result.HoldsAcquired);
        Assert.Empty(result.Holds);
        Assert.Empty(reconciler.Holds);
    }

    [Fact]
    public void RemovingTheDocumentReleasesTheHold()
    {
        reconciler.Reconcile(Read(("a.yaml", WebWithBrokenSlice())));

        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Service("web", "198.51.100.10"))));

        Assert.Empty(result.Changes);
        Assert.Equal([Web], result.HoldsReleased);
    }

    [Fact]
    public void ServiceStaysHeldWhileAnyOfItsDocumentsHoldsIt()
    {
        reconciler.Reconcile(Read(
            ("a.yaml", Yaml.Service("web", "198.51.100.999")),
            ("b.yaml", Yaml.Slice("web-1", "web", "198.18.1.999"))));

        var serviceFixed = reconciler.Reconcile(Read(
            ("a.yaml", Yaml.Service("web", "198.51.100.10")),
            ("b.yaml", Yaml.Slice("web-1", "web", "198.18.1.999"))));

        Assert.Equal(["+Service default/web"], serviceFixed.Changes.Select(Describe));
        Assert.Empty(serviceFixed.HoldsReleased);
        Assert.Equal(["EndpointSlice default/web-1"], serviceFixed.Holds.Select(h => h.Object.ToString()));
    }

    [Fact]
    public void InvalidDocumentWithALastGoodStateHoldsNothing()
    {
        reconciler.Reconcile(Read(("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.2"))));

        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Slice("web-1", "web", "198.18.1.999"))));

        Assert.Single(result.Retained);
        Assert.Empty(result.Holds);
        Assert.Empty(result.HoldsAcquired);
    }

    [Fact]
    public void InvalidSliceThatNamesNoServiceHoldsNothingAndIsReported()
    {
        var unlabelled = Yaml.Slice("web-1", "web", "198.18.1.999").Replace("    kubernetes.io/service-name: web\n", "    app: web\n");

        var result = reconciler.Reconcile(Read(("a.yaml", Yaml.Documents(Yaml.Node("n1"), unlabelled))));

        Assert.Empty(result.Holds);
        var document = Assert.Single(result.Unattributed);
        Assert.Equal(("a.yaml", 1, "EndpointSlice default/web-1"), (document.File, document.DocumentIndex, document.Key.ToString()));
    }

    [Fact]
    public void HoldOutlivesAnUnreadableFileAndABriefAbsenceButNotARealDeletion()
    {
        reconciler.Reconcile(Read(("a.yaml", WebWithBrokenSlice()), ("b.yaml", Yaml.Node("n1"))));

        var unreadable = reconciler.Reconcile(ManifestReadResult.Create("dir",
            [ManifestFileResult.Unreadable("a.yaml", "cannot read: denied"), ManifestReader.ParseFile("b.yaml", Yaml.Node("n1"))]));

        Assert.Empty(unreadable.HoldsReleased);
        Assert.Equal(
            ["Service default/web: EndpointSlice default/web-1 from a.yaml doc 1: its file could not be read completely"],
            unreadable.Holds.Select(h => h.ToString()));

        var vanished = reconciler.Reconcile(Read(("b.yaml", Yaml.Node("n1"))));

        Assert.Empty(vanished.HoldsReleased);
        Assert.True(vanished.RecheckSoon);
        Assert.Equal(
            ["Service default/web: EndpointSlice default/web-1 from a.yaml doc 1: its file vanished; releasing if it is still gone on the next read"],
            vanished.Holds.Select(h => h.ToString()));

        var gone = reconciler.Reconcile(Read(("b.yaml", Yaml.Node("n1"))));

        Assert.Equal(["-Service default/web"], gone.Changes.Select(Describe));
        Assert.Equal([Web], gone.HoldsReleased);
        Assert.Empty(gone.Holds);
    }

    [Fact]
    public void UnreadableFileAtStartNamesNothingToHold()
    {
        var result = reconciler.Reconcile(ManifestReadResult.Create("dir", [ManifestFileResult.Unreadable("a.yaml", "cannot read: denied")]));

        Assert.Empty(result.Changes);
        Assert.Empty(result.Holds);
        Assert.Empty(result.Unattributed);
    }
}
