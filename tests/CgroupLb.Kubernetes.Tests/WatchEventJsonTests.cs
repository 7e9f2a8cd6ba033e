using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CgroupLb.Kubernetes.Decoding;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// Our watch event decoder: every object of <see cref="ListPageJsonCorpus"/> in an event decodes to what the list decoder
/// gives for it (which <see cref="ListPageJsonTests"/> compares with KubernetesClient's), in any field order; ERROR events
/// give their Status; a malformed ADDED/MODIFIED object is refused naming it, the field and its resourceVersion; a line
/// that is not an event fails as a whole.
/// </summary>
public sealed class WatchEventJsonTests
{
    [Theory]
    [InlineData("ADDED", WatchEventType.Added)]
    [InlineData("MODIFIED", WatchEventType.Modified)]
    [InlineData("DELETED", WatchEventType.Deleted)]
    public void EventsCarryWhatTheListDecoderReadsOfTheirObjects(string type, WatchEventType expected)
    {
        var services = ListPageJson.Services(Bytes(ListPageJsonCorpus.Page("ServiceList", ListPageJsonCorpus.Services))).Items;
        for (var i = 0; i < services.Count; i++)
        {
            var watchEvent = WatchEventJson.Service(Bytes(Line(type, ListPageJsonCorpus.Services[i])));
            Assert.Equal(expected, watchEvent.Type);
            Assert.Null(watchEvent.Refused);
            Assert.Equal(KubernetesJson.Serialize(services[i]), KubernetesJson.Serialize(watchEvent.Object));
        }

        var slices = ListPageJson.EndpointSlices(Bytes(ListPageJsonCorpus.Page("EndpointSliceList", ListPageJsonCorpus.Slices))).Items;
        for (var i = 0; i < slices.Count; i++)
        {
            var watchEvent = WatchEventJson.EndpointSlice(Bytes(Line(type, ListPageJsonCorpus.Slices[i])));
            Assert.Equal(expected, watchEvent.Type);
            Assert.Equal(KubernetesJson.Serialize(slices[i]), KubernetesJson.Serialize(watchEvent.Object));
        }

        var nodes = ListPageJson.Nodes(Bytes(ListPageJsonCorpus.Page("NodeList", ListPageJsonCorpus.Nodes))).Items;
        for (var i = 0; i < nodes.Count; i++)
        {
            var watchEvent = WatchEventJson.Node(Bytes(Line(type, ListPageJsonCorpus.Nodes[i])));
            Assert.Equal(KubernetesJson.Serialize(nodes[i]), KubernetesJson.Serialize(watchEvent.Object));
        }
    }

    [Fact]
    public void TheObjectMayComeBeforeTheType()
    {
        var inOrder = WatchEventJson.EndpointSlice(Bytes(Line("MODIFIED", ListPageJsonCorpus.Slices[0])));
        var reversed = WatchEventJson.EndpointSlice(Bytes($$"""{"object":{{Compact(ListPageJsonCorpus.Slices[0])}},"extra":[1,{"a":2}],"type":"MODIFIED"}"""));

        Assert.Equal(WatchEventType.Modified, reversed.Type);
        Assert.Equal(KubernetesJson.Serialize(inOrder.Object), KubernetesJson.Serialize(reversed.Object));
    }

    [Fact]
    public void ABookmarkCarriesItsResourceVersion()
    {
        var bookmark = WatchEventJson.Service(Bytes("""{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"12345","annotations":{"k8s.io/initial-events-end":"true"}},"spec":{"ports":"junk"}}}"""));

        Assert.Equal(WatchEventType.Bookmark, bookmark.Type);
        Assert.Null(bookmark.Refused);
        Assert.Equal("12345", bookmark.Object!.Metadata.ResourceVersion);
    }

    [Fact]
    public void AnErrorEventGivesItsStatus()
    {
        var error = WatchEventJson.Service(Bytes("""{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (100)","reason":"Expired","code":410}}"""));

        Assert.Equal(WatchEventType.Error, error.Type);
        Assert.Null(error.Object);
        Assert.Equal(410, error.Status!.Code);
        Assert.Equal("Expired", error.Status.Reason);
        Assert.Equal("too old resource version: 5 (100)", error.Status.Message);
    }

    [Theory]
    [InlineData("ADDED")]
    [InlineData("MODIFIED")]
    public void AMalformedObjectIsRefusedNamingItTheFieldAndItsVersion(string type)
    {
        var service = WatchEventJson.Service(Bytes(Line(type, """{"metadata":{"name":"web","namespace":"default","resourceVersion":"77"},"spec":{"ports":[{"port":"80"}]}}""")));
        var slice = WatchEventJson.EndpointSlice(Bytes(Line(type, """{"endpoints":[{"addresses":"192.0.2.1"}],"metadata":{"name":"web-1","namespace":"default","resourceVersion":"78"}}""")));

        Assert.Null(service.Object);
        Assert.Equal(new RefusedObject("default/web", "spec.ports[0].port: expected an integer, found a string") { ResourceVersion = "77" }, service.Refused);
        Assert.Null(slice.Object);
        Assert.Equal(new RefusedObject("default/web-1", "endpoints[0].addresses: expected a list, found a string") { ResourceVersion = "78" }, slice.Refused);
    }

    [Fact]
    public void AMalformedDeletedObjectIsStillADeletion()
    {
        var deleted = WatchEventJson.Service(Bytes("""{"type":"DELETED","object":{"metadata":{"name":"web","namespace":"default","resourceVersion":"79"},"spec":{"ports":[{"port":"80"}]}}}"""));

        Assert.Equal(WatchEventType.Deleted, deleted.Type);
        Assert.Null(deleted.Refused);
        Assert.Equal(("default", "web", "79"), (deleted.Object!.Metadata.NamespaceProperty, deleted.Object.Metadata.Name, deleted.Object.Metadata.ResourceVersion));
    }

    [Theory]
    [InlineData("""{"type":"MODIFIED","object":{"kind":"Service","metadata":""", typeof(JsonException))]
    [InlineData("""not json""", typeof(JsonException))]
    [InlineData("""[{"type":"ADDED"}]""", typeof(InvalidDataException))]
    [InlineData("""{"type":"RENAMED","object":{}}""", typeof(InvalidDataException))]
    [InlineData("""{"type":7,"object":{}}""", typeof(InvalidDataException))]
    [InlineData("""{"object":{"metadata":{"name":"web"}}}""", typeof(InvalidDataException))]
    [InlineData("""{"type":"ADDED"}""", typeof(InvalidDataException))]
    [InlineData("""{"type":"ADDED","object":"web"}""", typeof(InvalidDataException))]
    public void ALineThatIsNotAnEventFailsAsAWhole(string line, Type exception)
    {
        var thrown = Record.Exception(() => WatchEventJson.Service(Bytes(line)));

        Assert.IsAssignableFrom(exception, thrown);
    }

    private static string Line(string type, string objectJson) => $$"""{"type":"{{type}}","object":{{Compact(objectJson)}}}""";

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
