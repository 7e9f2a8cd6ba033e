using System.Net;
using CgroupLb.Kubernetes.ApiServer;
using CgroupLb.Testing;
using CgroupLb.Testing.FakeApi;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// Reaching the API server when its configured address (the `kubernetes` ClusterIP) does not answer: the addresses
/// of the `kubernetes` EndpointSlice are saved under the state directory, read back by a new process, and tried
/// straight when the configured host fails. No root needed: the "ClusterIP" is a loopback address nothing listens on.
/// </summary>
public sealed class ApiServerFallbackTests : IDisposable
{
    private readonly DirectoryInfo state = Directory.CreateTempSubdirectory("cglb-state-");

    [Fact]
    public void OnlyTheKubernetesSliceInDefaultIsTheApiServersAndItsReadyHttpsAddressesAreTaken()
    {
        var slice = ApiServerSlice(6443, "192.0.2.1", "192.0.2.2");
        slice.Endpoints[1].Conditions.Ready = false;
        slice.Endpoints.Add(new V1Endpoint { Addresses = ["192.0.2.3"], Conditions = new V1EndpointConditions() });

        Assert.True(ApiServerAddressFile.IsApiServerSlice(slice));
        Assert.False(ApiServerAddressFile.IsApiServerSlice(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.9")));
        Assert.False(ApiServerAddressFile.IsApiServerSlice(KubeObjects.ReadySlice("other", "kubernetes", "kubernetes", "192.0.2.9")));
        Assert.Equal([IPEndPoint.Parse("192.0.2.1:6443"), IPEndPoint.Parse("192.0.2.3:6443")], ApiServerAddressFile.AddressesOf(slice));
    }

    [Fact]
    public void SavedAddressesSurviveANewReaderAnEmptyUpdateKeepsThemAndACorruptFileReadsAsNone()
    {
        var file = new ApiServerAddressFile(Path.Combine(state.FullName, "nested"));
        Assert.Empty(file.Addresses);
        Assert.True(file.Save([IPEndPoint.Parse("192.0.2.1:6443"), IPEndPoint.Parse("[2001:db8::1]:6443")]));
        Assert.False(file.Save([IPEndPoint.Parse("192.0.2.1:6443"), IPEndPoint.Parse("[2001:db8::1]:6443")]));
        Assert.False(file.Save([]));

        var reread = new ApiServerAddressFile(Path.Combine(state.FullName, "nested"));
        Assert.Equal([IPEndPoint.Parse("192.0.2.1:6443"), IPEndPoint.Parse("[2001:db8::1]:6443")], reread.Addresses);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(reread.Path)!, "*.tmp"));

        File.WriteAllText(reread.Path, "{not json");
        Assert.Empty(new ApiServerAddressFile(Path.Combine(state.FullName, "nested")).Addresses);
    }

    [Fact(Timeout = 60_000)]
    public async Task WithTheConfiguredHostUnreachableTheClientListsThroughTheSavedAddress()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        server.Upsert(KubeObjects.HttpService("default", "web"));
        server.Upsert(KubeObjects.ReadySlice("default", "web", "web-1", "192.0.2.10"));
        // The server listens on 127.0.0.1 only, so its port on 127.0.0.2 refuses: a ClusterIP leading nowhere.
        string unreachable = $"http://127.0.0.2:{server.Port}";
        var file = new ApiServerAddressFile(state.FullName);
        file.Save([new IPEndPoint(IPAddress.Loopback, server.Port)]);

        var connector = new ApiServerFallbackConnector(new ApiServerAddressFile(state.FullName), NullLogger.Instance, TimeSpan.FromSeconds(2));
        var configuration = new KubernetesClientConfiguration { Host = unreachable, FirstMessageHandlerSetup = connector.Install };
        await using var run = SourceRun.Start(new k8s.Kubernetes(configuration));
        await run.WaitSyncedAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(run.Sink.Get(RecordingChangeSink.ServicesKind, "default/web"));

        // The watches take the same way.
        server.Upsert(KubeObjects.HttpService("default", "api"));
        await Eventually.TrueAsync(
            () => run.Sink.Get(RecordingChangeSink.ServicesKind, "default/api") is not null, TimeSpan.FromSeconds(20), () => "watched through the saved address");
    }

    [Fact(Timeout = 60_000)]
    public async Task WithoutASavedAddressAnUnreachableHostFailsAsBefore()
    {
        await using var server = await FakeApiServer.StartNewAsync();
        var connector = new ApiServerFallbackConnector(new ApiServerAddressFile(state.FullName), NullLogger.Instance, TimeSpan.FromSeconds(2));
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration
        {
            Host = $"http://127.0.0.2:{server.Port}",
            FirstMessageHandlerSetup = connector.Install,
        });

        var error = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.CoreV1.ListServiceForAllNamespacesAsync());
        Assert.Contains("refused", error.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, server.ListRequests(FakeResource.Services));
    }

    private static V1EndpointSlice ApiServerSlice(int port, params string[] addresses)
    {
        var slice = KubeObjects.ReadySlice("default", "kubernetes", "kubernetes", addresses);
        slice.Ports = [new Discoveryv1EndpointPort { Name = "https", Port = port, Protocol = "TCP" }];
        return slice;
    }

    public void Dispose() => state.Delete(recursive: true);
}
