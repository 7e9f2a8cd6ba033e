using k8s.Models;

namespace CgroupLb.Manifests.Tests;

/// <summary>
/// Field values that repeat across documents (<see cref="RepeatedText"/>) are one string per thread, so 10k objects do
/// not each carry a copy of their namespace, apiVersion, port name and protocol; names of objects stay their own.
/// </summary>
public class RepeatedTextTests
{
    [Fact]
    public void Equal_texts_give_the_same_string_and_other_texts_their_own()
    {
        var first = RepeatedText.Of("bench".AsSpan());
        Assert.Equal("bench", first);
        Assert.Same(first, RepeatedText.Of("xbenchx".AsSpan(1, 5)));
        Assert.Equal("TCP", RepeatedText.Of("TCP"));
        Assert.NotSame(first, RepeatedText.Of("TCP"));
        Assert.Same("", RepeatedText.Of(""));
    }

    [Fact]
    public void A_text_whose_slot_another_took_is_still_given_equal()
    {
        // More texts than slots: every one comes back equal to what was asked, whatever it displaced.
        var texts = Enumerable.Range(0, 5000).Select(i => $"t{i}").ToList();
        foreach (var text in texts.Concat(texts))
        {
            Assert.Equal(text, RepeatedText.Of(text));
        }
    }

    [Fact]
    public void Long_texts_are_not_looked_up()
    {
        var text = new string('a', RepeatedText.MaxLength + 1);
        var made = RepeatedText.Of(text);
        Assert.Equal(text, made);
        Assert.NotSame(made, RepeatedText.Of(text));
    }

    [Fact]
    public void Objects_read_from_a_file_share_repeated_values_and_keep_their_own_names()
    {
        var text = Yaml.Documents(
            Yaml.Service("web", "198.51.100.1", @namespace: "bench"),
            Yaml.Service("api", "198.51.100.2", @namespace: "bench"),
            Yaml.Slice("web-1", "web", "198.18.0.1"),
            Yaml.Slice("api-1", "api", "198.18.0.2"));
        var objects = ManifestReader.ParseFile("m.yaml", text).Documents.Select(d => d.Object!).ToList();
        var (web, api) = ((V1Service)objects[0].Object, (V1Service)objects[1].Object);
        var (webSlice, apiSlice) = ((V1EndpointSlice)objects[2].Object, (V1EndpointSlice)objects[3].Object);

        Assert.Same(web.Metadata.NamespaceProperty, api.Metadata.NamespaceProperty);
        Assert.Same(objects[0].Key.Namespace, objects[1].Key.Namespace);
        Assert.Same(web.ApiVersion, api.ApiVersion);
        Assert.Same(web.Spec.Ports[0].Name, api.Spec.Ports[0].Name);
        Assert.Same(web.Spec.Ports[0].TargetPort.Value, api.Spec.Ports[0].TargetPort.Value);
        Assert.Same(webSlice.AddressType, apiSlice.AddressType);
        Assert.Same(webSlice.Metadata.Labels.Keys.Single(), apiSlice.Metadata.Labels.Keys.Single());
        Assert.Same(web.Spec.Ports[0].Name, webSlice.Ports[0].Name);
        Assert.Equal(("web", "api"), (web.Metadata.Name, api.Metadata.Name));
        Assert.Equal("bench", web.Metadata.NamespaceProperty);
    }
}
