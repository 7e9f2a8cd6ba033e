using System.Net;
using System.Text;
using CgroupLb.Kubernetes.Reflection;
using CgroupLb.Testing;
using k8s;
using k8s.Models;

namespace CgroupLb.Kubernetes.Tests;

/// <summary>
/// The watch line reader over a response that arrives in pieces of any size: events split across reads, events larger
/// than the reader's buffer, blank lines, a last event without its newline.
/// </summary>
public sealed class WatchStreamRequestTests
{
    [Theory(Timeout = 30_000)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task EveryEventIsReadWhateverPiecesTheResponseArrivesIn(int pieceBytes)
    {
        var expected = new List<(string Name, int Endpoints)>();
        var body = new StringBuilder();
        for (var i = 0; i < 60; i++)
        {
            // Up to 3000 endpoints: events from about 300 bytes to about 200 KB, several larger than the reader's first buffer.
            var endpoints = i % 7 == 3 ? 3000 : 1 + (i % 5);
            var addresses = Enumerable.Range(0, endpoints).Select(e => $"198.18.{e / 250}.{1 + (e % 250)}").ToArray();
            var slice = KubeObjects.ReadySlice("default", "web", $"web-{i}", addresses);
            slice.Metadata.ResourceVersion = (100 + i).ToString();
            body.Append("{\"type\":\"MODIFIED\",\"object\":").Append(KubernetesJson.Serialize(slice)).Append('}').Append(i % 4 == 0 ? "\r\n\n" : "\n");
            expected.Add(($"web-{i}", endpoints));
        }

        var lastWithoutNewline = body.ToString().TrimEnd('\n', '\r');
        using var client = new k8s.Kubernetes(
            new KubernetesClientConfiguration { Host = "http://watch.invalid" }, new PiecewiseHandler(Encoding.UTF8.GetBytes(lastWithoutNewline), pieceBytes));
        var api = ResourceApis.EndpointSlices(client);
        var errors = new List<Exception>();

        var read = new List<(string Name, int Endpoints)>();
        await foreach (var watchEvent in api.Watch("1", 60, errors.Add, CancellationToken.None))
        {
            Assert.Null(watchEvent.Refused);
            read.Add((watchEvent.Object!.Metadata.Name, watchEvent.Object.Endpoints.Count));
        }

        Assert.Empty(errors);
        Assert.Equal(expected, read);
    }

    /// <summary>Answers with the body, its stream returning at most <c>pieceBytes</c> per read.</summary>
    private sealed class PiecewiseHandler(byte[] body, int pieceBytes) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                RequestMessage = request,
                Content = new StreamContent(new PiecewiseStream(body, pieceBytes)),
            });
    }

    private sealed class PiecewiseStream(byte[] body, int pieceBytes) : Stream
    {
        private int position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => body.Length;

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(buffer.Length, pieceBytes), body.Length - position);
            body.AsSpan(position, n).CopyTo(buffer);
            position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
