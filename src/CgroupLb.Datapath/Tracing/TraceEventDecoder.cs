using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Tracing;

/// <summary>
/// Turns a ring buffer record (struct lb_trace_event) into a <see cref="TraceEvent"/>. Pure: the service name and
/// the clock come from the caller, so it is tested without a kernel.
/// </summary>
internal static class TraceEventDecoder
{
    /// <summary>
    /// Decodes <paramref name="record"/>. A record longer than this build's struct (a newer agent's programs) is read
    /// up to the fields this build knows; a shorter one is refused with its size. <paramref name="bootTime"/> is the
    /// wall-clock time of CLOCK_MONOTONIC zero (<see cref="TraceClock"/>).
    /// </summary>
    public static unsafe TraceEvent Decode(ReadOnlySpan<byte> record, Func<uint, string?> serviceName, DateTimeOffset bootTime)
    {
        if (record.Length < LbTraceEvent.Size)
            throw new FormatException($"trace record of {record.Length} bytes is shorter than struct lb_trace_event ({LbTraceEvent.Size})");
        var raw = MemoryMarshal.Read<LbTraceEvent>(record);
        var comm = new ReadOnlySpan<byte>(raw.Comm, LbTraceEvent.CommLength);
        int end = comm.IndexOf((byte)0);
        string protocol = raw.Proto switch
        {
            6 => "TCP",
            17 => "UDP",
            _ => $"proto-{raw.Proto}",
        };
        var verdict = (LbTraceVerdict)raw.Verdict;
        return new TraceEvent(
            Time: bootTime.AddTicks((long)(raw.TimeNs / 100)),
            CgroupId: raw.CgroupId,
            NetnsCookie: raw.NetnsCookie,
            SocketCookie: raw.SocketCookie,
            Pid: raw.Pid,
            Comm: Encoding.UTF8.GetString(end < 0 ? comm : comm[..end]),
            Protocol: protocol,
            Hook: (LbTraceHook)raw.Hook,
            Verdict: verdict,
            Frontend: EndPoint(raw.Family, raw.FrontendAddress, raw.FrontendPortBe),
            Backend: verdict == LbTraceVerdict.Translated ? EndPoint(raw.Family, raw.BackendAddress, raw.BackendPortBe) : null,
            ServiceId: raw.ServiceId,
            ServiceName: raw.ServiceId == 0 ? null : serviceName(raw.ServiceId));
    }

    private static unsafe IPEndPoint EndPoint(byte family, byte* address, ushort portBe)
    {
        var bytes = new ReadOnlySpan<byte>(address, LbTraceEvent.AddressLength);
        var ip = family == 6 ? new IPAddress(bytes) : new IPAddress(bytes[..4]);
        return new IPEndPoint(ip, (ushort)IPAddress.NetworkToHostOrder((short)portBe));
    }
}
