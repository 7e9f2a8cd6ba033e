using System.Net;
using System.Text.Json;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Tracing;

namespace CgroupLb.Datapath.Tests;

/// <summary>`cgroup-lb trace` output: the JSON fields tools rely on, and the text line's shape.</summary>
public class TraceEventFormatTests
{
    private static readonly DateTimeOffset Time = new(2026, 11, 27, 21, 0, 0, TimeSpan.Zero);

    private static TraceEvent Translated() =>
        new(Time, 11, 4096, 99, 4242, "curl", "TCP", LbTraceHook.Connect4, LbTraceVerdict.Translated,
            IPEndPoint.Parse("198.51.100.10:80"), IPEndPoint.Parse("198.18.0.2:8080"), 7, "default/web:http");

    [Fact]
    public void JsonOfATranslationHasEveryField()
    {
        using var doc = JsonDocument.Parse(TraceEventFormat.ToJson(Translated()));
        var root = doc.RootElement;
        Assert.Equal("2026-11-27T21:00:00.000000Z", root.GetProperty("time").GetString());
        Assert.Equal("connect4", root.GetProperty("hook").GetString());
        Assert.Equal("TCP", root.GetProperty("protocol").GetString());
        Assert.Equal("translated", root.GetProperty("verdict").GetString());
        Assert.Equal("198.51.100.10:80", root.GetProperty("frontend").GetString());
        Assert.Equal("198.18.0.2:8080", root.GetProperty("backend").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("reason").ValueKind);
        Assert.Equal("default/web:http", root.GetProperty("service").GetString());
        Assert.Equal(7u, root.GetProperty("serviceId").GetUInt32());
        Assert.Equal(4242u, root.GetProperty("pid").GetUInt32());
        Assert.Equal("curl", root.GetProperty("comm").GetString());
        Assert.Equal(11ul, root.GetProperty("cgroupId").GetUInt64());
        Assert.Equal(4096ul, root.GetProperty("netnsCookie").GetUInt64());
        Assert.Equal(99ul, root.GetProperty("socketCookie").GetUInt64());
    }

    [Fact]
    public void ARefusalHasAReasonAndANullBackendInJsonAndText()
    {
        var refused = Translated() with { Verdict = LbTraceVerdict.RefusedNoBackend, Backend = null, ServiceName = null };
        using var doc = JsonDocument.Parse(TraceEventFormat.ToJson(refused));
        Assert.Equal("refused", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("backend").ValueKind);
        Assert.Equal("no backends", doc.RootElement.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("service").ValueKind);

        string line = TraceEventFormat.ToLine(refused);
        Assert.Contains("connect4 TCP 198.51.100.10:80 refused: no backends service-id 7 pid 4242 (curl)", line);
    }

    [Fact]
    public void TextLineShowsFrontendToBackendAndTheService()
    {
        string line = TraceEventFormat.ToLine(Translated());
        Assert.Contains("connect4 TCP 198.51.100.10:80 -> 198.18.0.2:8080 default/web:http pid 4242 (curl) cgroup 11 netns 4096", line);
        Assert.DoesNotContain('\n', line);
    }
}
