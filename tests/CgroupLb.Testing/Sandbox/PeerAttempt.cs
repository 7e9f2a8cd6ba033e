using System.Net;
using System.Text.Json;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// One client attempt as cglb-testpeer reports it: on success the backend's name and the addresses the kernel
/// reported (getpeername, getsockname, the reply's source); on failure the stage and errno name.
/// </summary>
public sealed record PeerAttempt(
    bool Ok,
    string? Backend,
    string? Peer,
    string? Local,
    string? From,
    string? Stage,
    string? Error,
    int? Errno,
    string? Message)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public IPEndPoint? PeerEndPoint => Peer is null ? null : IPEndPoint.Parse(Peer);

    public IPEndPoint? FromEndPoint => From is null ? null : IPEndPoint.Parse(From);

    public static IReadOnlyList<PeerAttempt> ParseLines(CommandResult result)
    {
        var attempts = new List<PeerAttempt>();
        foreach (string line in result.StdoutLines())
        {
            attempts.Add(JsonSerializer.Deserialize<PeerAttempt>(line, Json)
                ?? throw new FormatException($"'{result.CommandLine}' printed a null attempt"));
        }
        return attempts;
    }

    public override string ToString() =>
        Ok ? $"ok backend={Backend} peer={Peer} from={From} local={Local}" : $"failed at {Stage}: {Error} ({Message})";
}
