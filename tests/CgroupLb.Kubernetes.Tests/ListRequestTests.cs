using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Testing;
using k8s;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// The lists as the source sends them now (our GET through KubernetesClient's pipeline, our decoder): credentials and
/// paging as before, 410 on a continue page still restarts the list, and one malformed object is refused alone while
/// the rest of its page and the following pages are delivered and the source syncs.
/// </summary>
public sealed class ListRequestTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 60_000)]
    public async Task AMalformedObjectIsRefusedAloneAndTheRestOfTheListIsDelivered()
    {
        var malformed = """{"metadata": {"name": "broken", "namespace": "default", "resourceVersion": "99"}, "spec": {"ports": [{"port": "80"}]}}""";
        var pages = new Dictionary<string, string>
        {
            ["/api/v1/services|"] = ListPageJsonCorpus.Page("ServiceList", [ListPageJsonCorpus.Services[0], malformed], "5000", "page-2"),
            ["/api/v1/services|page-2"] = ListPageJsonCorpus.Page("ServiceList", [ListPageJsonCorpus.Services[1]], "5000"),
            ["/apis/discovery.k8s.io/v1/endpointslices|"] = ListPageJsonCorpus.Page("EndpointSliceList", ListPageJsonCorpus.Slices, "5000"),
        };
        var handler = new CannedApiHandler(pages) { GoneOnce = "/api/v1/services|page-2" };
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://canned.invalid", AccessToken = "t0ken" }, handler);
        await using var run = SourceRun.Start(client);

        await run.WaitSyncedAsync(Converge);

        Assert.Equal(["apps/dual", "default/web"], run.Sink.Versions(RecordingChangeSink.ServicesKind).Keys.Order());
        Assert.Equal(ListPageJsonCorpus.Slices.Length, run.Sink.Versions(RecordingChangeSink.EndpointSlicesKind).Count);
        // The continue page answered 410 once: the list started over (as with KubernetesClient's calls) and read the
        // first page, and its malformed object, a second time.
        Assert.Equal(2, run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.Refused));
        Assert.Equal(1, run.Observer.Errors(KubernetesSource.ServicesSource, ReflectorErrorKind.ListExpired));
        Assert.All(handler.Requests, r => Assert.Equal("Bearer t0ken", r.Authorization));
        Assert.Contains(handler.Requests, r => r.Query.Contains("continue=page-2", StringComparison.Ordinal) && r.Query.Contains("limit=100", StringComparison.Ordinal));
    }

    /// <summary>Answers list requests from canned pages (404 for others); a watch stays open and silent until cancelled.</summary>
    private sealed class CannedApiHandler(Dictionary<string, string> pages) : DelegatingHandler
    {
        private int goneSent;

        public string? GoneOnce { get; init; }

        public ConcurrentQueue<(string Query, string? Authorization)> Requests { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var query = System.Web.HttpUtility.ParseQueryString(request.RequestUri!.Query);
            if (query["watch"] is "true" or "1")
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            Requests.Enqueue((request.RequestUri.Query, request.Headers.Authorization?.ToString()));
            var key = $"{request.RequestUri.AbsolutePath}|{query["continue"]}";
            if (key == GoneOnce && Interlocked.Exchange(ref goneSent, 1) == 0)
            {
                return Answer(request, HttpStatusCode.Gone, """{"kind": "Status", "code": 410, "reason": "Expired"}""");
            }

            return pages.TryGetValue(key, out var body)
                ? Answer(request, HttpStatusCode.OK, body)
                : Answer(request, HttpStatusCode.NotFound, "{}");
        }

        private static HttpResponseMessage Answer(HttpRequestMessage request, HttpStatusCode status, string body) =>
            new(status) { RequestMessage = request, Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }
}
