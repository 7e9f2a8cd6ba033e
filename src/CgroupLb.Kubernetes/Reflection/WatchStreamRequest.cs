using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using CgroupLb.Kubernetes.Decoding;
using k8s;

namespace CgroupLb.Kubernetes.Reflection;

/// <summary>Decodes one line of a watch stream; the span is valid only during the call.</summary>
public delegate WatchEventLine<T> WatchLineDecoder<T>(ReadOnlySpan<byte> line)
    where T : class;

/// <summary>
/// A watch (<c>?watch=1&amp;allowWatchBookmarks=true&amp;resourceVersion=..&amp;timeoutSeconds=..</c>) through
/// KubernetesClient's own HTTP pipeline (<see cref="ApiGetRequest"/>), its newline-delimited events read into one pooled
/// buffer and each line handed to a decoder of ours. The contract is the one the reflector had with KubernetesClient's
/// watcher: HTTP failures on open throw (410 as <see cref="k8s.Autorest.HttpOperationException"/>); an ERROR event is
/// reported through onError as a <see cref="KubernetesException"/> with its Status, and a line that is not a decodable
/// event as its <see cref="JsonException"/> or <see cref="InvalidDataException"/>; after either the stream ends here,
/// since nothing after a gap can be trusted. A refused object is an event like the others (see
/// <see cref="WatchEventLine{T}.Refused"/>).
/// </summary>
internal static class WatchStreamRequest
{
    private const int InitialBufferBytes = 16 * 1024;

    public static async IAsyncEnumerable<WatchEventLine<T>> WatchAsync<T>(
        k8s.Kubernetes client,
        string path,
        string resourceVersion,
        int timeoutSeconds,
        WatchLineDecoder<T> decode,
        Action<Exception> onError,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        var query = $"{path}?watch=1&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(resourceVersion)}&timeoutSeconds={timeoutSeconds}";
        using var response = await ApiGetRequest.SendAsync(client, query, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var streamScope = stream.ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        try
        {
            // buffer[start..end] holds what was read and not yet decoded: at most one partial line after the loop below,
            // of which buffer[start..scanned] is known to hold no newline (a large event arriving in small reads is
            // scanned once, not once per read).
            var start = 0;
            var scanned = 0;
            var end = 0;
            while (true)
            {
                int newline;
                while ((newline = buffer.AsSpan(scanned, end - scanned).IndexOf((byte)'\n')) >= 0)
                {
                    var decoded = Decode(decode, buffer, start, scanned + newline - start, onError);
                    start = scanned = scanned + newline + 1;
                    if (decoded.End)
                    {
                        yield break;
                    }

                    if (decoded.Event is { } watchEvent)
                    {
                        yield return watchEvent;
                    }
                }

                scanned = end;
                if (start > 0)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    scanned = end;
                    start = 0;
                }

                if (end == buffer.Length)
                {
                    // One event larger than the buffer (a Node with many images, a slice with many endpoints).
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, end).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                end += read;
            }

            // The server ended the stream. A last line without its newline is decoded like any other: complete, it is an
            // event; cut short, it fails to decode and is reported as a broken stream.
            if (end > start)
            {
                var last = Decode(decode, buffer, start, end - start, onError);
                if (!last.End && last.Event is { } watchEvent)
                {
                    yield return watchEvent;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static (WatchEventLine<T>? Event, bool End) Decode<T>(
        WatchLineDecoder<T> decode, byte[] buffer, int start, int length, Action<Exception> onError)
        where T : class
    {
        var line = buffer.AsSpan(start, length).Trim(" \t\r"u8);
        if (line.IsEmpty)
        {
            return (null, false);
        }

        WatchEventLine<T> watchEvent;
        try
        {
            watchEvent = decode(line);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            onError(e);
            return (null, true);
        }

        if (watchEvent.Type == WatchEventType.Error)
        {
            onError(new KubernetesException(watchEvent.Status ?? new k8s.Models.V1Status()));
            return (null, true);
        }

        return (watchEvent, false);
    }
}
