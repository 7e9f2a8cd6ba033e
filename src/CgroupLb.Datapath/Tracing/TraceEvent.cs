using System.Net;
using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Tracing;

/// <summary>
/// One translation decision of connect4/sendmsg4, decoded from the ring buffer (struct lb_trace_event). Backend is
/// set only when <see cref="Verdict"/> is <see cref="LbTraceVerdict.Translated"/>; <see cref="ServiceName"/> is the
/// lb_svc_names entry of <see cref="ServiceId"/> when the tracer read the event ("namespace/name:port"), null if none.
/// </summary>
public sealed record TraceEvent(
    DateTimeOffset Time,
    ulong CgroupId,
    ulong NetnsCookie,
    ulong SocketCookie,
    uint Pid,
    string Comm,
    string Protocol,
    LbTraceHook Hook,
    LbTraceVerdict Verdict,
    IPEndPoint Frontend,
    IPEndPoint? Backend,
    uint ServiceId,
    string? ServiceName)
{
    /// <summary>The hook's section name without "cgroup/": connect4, sendmsg4, ...</summary>
    public string HookName => Hook switch
    {
        LbTraceHook.Connect4 => "connect4",
        LbTraceHook.Sendmsg4 => "sendmsg4",
        LbTraceHook.Connect6 => "connect6",
        LbTraceHook.Sendmsg6 => "sendmsg6",
        _ => $"hook-{(byte)Hook}",
    };

    /// <summary>Why the syscall failed, for people; null when translated.</summary>
    public string? RefusalReason => Verdict switch
    {
        LbTraceVerdict.Translated => null,
        LbTraceVerdict.RefusedNoBackend => "no backends",
        LbTraceVerdict.RefusedNoSlot => "backend slot missing (frontend rewritten meanwhile)",
        _ => $"verdict {(byte)Verdict}",
    };
}
