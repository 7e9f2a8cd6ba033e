using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Tracing;

namespace CgroupLb.Datapath.Tests;

/// <summary>Ring buffer records (struct lb_trace_event) to <see cref="TraceEvent"/>, without a kernel.</summary>
public class TraceEventDecoderTests
{
    private static readonly DateTimeOffset Boot = new(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);

    private static unsafe byte[] Record(byte verdict, byte hook = 1, byte proto = 6, uint serviceId = 7, int extra = 0)
    {
        var raw = new LbTraceEvent
        {
            TimeNs = 1_500_000_000, CgroupId = 11, NetnsCookie = 4096, SocketCookie = 99, Pid = 4242, ServiceId = serviceId,
            FrontendPortBe = (ushort)IPAddress.HostToNetworkOrder((short)80),
            Family = 4, Proto = proto, Hook = hook, Verdict = verdict,
        };
        Encoding.ASCII.GetBytes("curl").CopyTo(new Span<byte>(raw.Comm, LbTraceEvent.CommLength));
        IPAddress.Parse("198.51.100.10").GetAddressBytes().CopyTo(new Span<byte>(raw.FrontendAddress, 16));
        if (verdict == (byte)LbTraceVerdict.Translated)
        {
            IPAddress.Parse("198.18.0.2").GetAddressBytes().CopyTo(new Span<byte>(raw.BackendAddress, 16));
            raw.BackendPortBe = (ushort)IPAddress.HostToNetworkOrder((short)8080);
        }
        var bytes = new byte[LbTraceEvent.Size + extra];
        MemoryMarshal.Write(bytes, in raw);
        return bytes;
    }

    [Fact]
    public void ATranslationNamesFrontendBackendServiceAndCaller()
    {
        var e = TraceEventDecoder.Decode(Record((byte)LbTraceVerdict.Translated), id => id == 7 ? "default/web:http" : null, Boot);

        Assert.Equal(Boot.AddSeconds(1.5), e.Time);
        Assert.Equal(IPEndPoint.Parse("198.51.100.10:80"), e.Frontend);
        Assert.Equal(IPEndPoint.Parse("198.18.0.2:8080"), e.Backend);
        Assert.Null(e.RefusalReason);
        Assert.Equal("default/web:http", e.ServiceName);
        Assert.Equal(("curl", 4242u, 11ul, 4096ul, 99ul), (e.Comm, e.Pid, e.CgroupId, e.NetnsCookie, e.SocketCookie));
        Assert.Equal(("connect4", "TCP"), (e.HookName, e.Protocol));
    }

    [Theory]
    [InlineData(LbTraceVerdict.RefusedNoBackend, "no backends")]
    [InlineData(LbTraceVerdict.RefusedNoSlot, "backend slot missing (frontend rewritten meanwhile)")]
    public void ARefusalHasAReasonAndNoBackend(LbTraceVerdict verdict, string reason)
    {
        var e = TraceEventDecoder.Decode(Record((byte)verdict, hook: 2, proto: 17), _ => null, Boot);

        Assert.Null(e.Backend);
        Assert.Equal(reason, e.RefusalReason);
        Assert.Null(e.ServiceName);
        Assert.Equal(("sendmsg4", "UDP"), (e.HookName, e.Protocol));
    }

    [Fact]
    public void ALongerRecordOfANewerLayoutReadsTheKnownFields()
    {
        var e = TraceEventDecoder.Decode(Record((byte)LbTraceVerdict.Translated, extra: 16), _ => "x/y:z", Boot);
        Assert.Equal(IPEndPoint.Parse("198.18.0.2:8080"), e.Backend);
    }

    [Fact]
    public void AShortRecordIsRefusedWithItsSize()
    {
        var ex = Assert.Throws<FormatException>(() => TraceEventDecoder.Decode(new byte[40], _ => null, Boot));
        Assert.Contains("40 bytes", ex.Message);
    }

    [Fact]
    public void ServiceId0IsNotLookedUp()
    {
        var e = TraceEventDecoder.Decode(Record((byte)LbTraceVerdict.Translated, serviceId: 0), _ => throw new InvalidOperationException("looked up"), Boot);
        Assert.Null(e.ServiceName);
    }
}
