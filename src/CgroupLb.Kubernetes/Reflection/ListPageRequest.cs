using System.Buffers;
using k8s.Autorest;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>Decodes a list page's body; the span is valid only during the call.</summary>
public delegate ResourceListPage<T> ListPageDecoder<T>(ReadOnlySpan<byte> body);

/// <summary>
/// GET of one list page through KubernetesClient's own HTTP pipeline (<see cref="ApiGetRequest"/>), with the body
/// handed to a decoder of ours instead of System.Text.Json's model binding. Errors surface as the generated calls raise
/// them (<see cref="HttpOperationException"/> with the status), so the reflector's 410 handling does not change.
/// </summary>
internal static class ListPageRequest
{
    private const int InitialBufferBytes = 64 * 1024;

    public static async Task<ResourceListPage<T>> GetAsync<T>(
        k8s.Kubernetes client, string path, string? continueToken, int limit, ListPageDecoder<T> decode, CancellationToken cancellationToken)
    {
        var query = continueToken is null ? $"{path}?limit={limit}" : $"{path}?continue={Uri.EscapeDataString(continueToken)}&limit={limit}";
        using var response = await ApiGetRequest.SendAsync(client, query, cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(response.Content.Headers.ContentLength ?? InitialBufferBytes, 1, Array.MaxLength));
        try
        {
            var length = 0;
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }
            }

            return decode(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
