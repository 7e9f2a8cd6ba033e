using System.Net;
using System.Net.Http.Headers;
using k8s.Autorest;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>
/// A GET through KubernetesClient's own HTTP pipeline (its HttpClient, handlers, TLS, the API server fallback connector,
/// and its credentials), built as its generated calls build one (<c>BaseUri</c> + path and query, HTTP/2 preferred). A
/// failed status throws what the generated calls throw (<see cref="HttpOperationException"/> with the status and body),
/// so the reflector's handling of 410 and other failures does not depend on which path read the response.
/// </summary>
internal static class ApiGetRequest
{
    /// <summary>Sends the GET and returns the response once its headers arrived; the caller reads and disposes it.</summary>
    public static async Task<HttpResponseMessage> SendAsync(k8s.Kubernetes client, string pathAndQuery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(client.BaseUri, pathAndQuery)) { Version = HttpVersion.Version20 };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new HttpOperationException($"Operation returned an invalid status code '{response.StatusCode}'")
            {
                Request = new HttpRequestMessageWrapper(request, ""),
                Response = new HttpResponseMessageWrapper(response, content),
            };
        }
    }
}
