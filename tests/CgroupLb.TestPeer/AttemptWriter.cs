using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace CgroupLb.TestPeer;

/// <summary>
/// Writes one JSON object per line to stdout, flushed per line so a test that kills a slow client still sees every
/// finished attempt, and to a copy file when one is given, which a test can read while the client runs. Keys: ok,
/// backend (the name the backend answered), peer, local, from, error, errno, stage.
/// </summary>
public sealed class AttemptWriter(string? copyPath = null) : IDisposable
{
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private readonly FileStream? _copy = copyPath is null ? null : new FileStream(copyPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
    private readonly MemoryStream _line = new();

    public void Success(string backend, IPEndPoint? peer, IPEndPoint? local, IPEndPoint? from)
    {
        Write(json =>
        {
            json.WriteBoolean("ok", true);
            json.WriteString("backend", backend);
            if (peer is not null) json.WriteString("peer", peer.ToString());
            if (local is not null) json.WriteString("local", local.ToString());
            if (from is not null) json.WriteString("from", from.ToString());
        });
    }

    public void Failure(string stage, Exception exception)
    {
        (string error, int? errno) = Describe(exception);
        Write(json =>
        {
            json.WriteBoolean("ok", false);
            json.WriteString("stage", stage);
            json.WriteString("error", error);
            if (errno is int n) json.WriteNumber("errno", n);
            json.WriteString("message", exception.Message);
        });
    }

    /// <summary>An errno name for socket errors, TIMEOUT for our own deadline, the exception type otherwise.</summary>
    public static (string Error, int? Errno) Describe(Exception exception) => exception switch
    {
        SocketException se => (Errno.NameOf(Errno.NumberOf(se)), Errno.NumberOf(se)),
        OperationCanceledException => ("TIMEOUT", null),
        _ => (exception.GetType().Name, null),
    };

    public void Write(Action<Utf8JsonWriter> body)
    {
        _line.SetLength(0);
        using (var json = new Utf8JsonWriter(_line))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }
        _line.WriteByte((byte)'\n');
        _stdout.Write(_line.GetBuffer(), 0, (int)_line.Length);
        _stdout.Flush();
        if (_copy is not null)
        {
            // One write per line: a reader sees whole lines or none of the last.
            _copy.Write(_line.GetBuffer(), 0, (int)_line.Length);
            _copy.Flush();
        }
    }

    public void Dispose()
    {
        _stdout.Dispose();
        _copy?.Dispose();
    }
}
