using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Tracing;

/// <summary>
/// This tracer's share of the trace switch: lb_trace_ctl's <c>tracers</c> count, which the programs read before they
/// write an event. It is a count, not a flag, so several tracers may run at once and the last one to leave switches
/// tracing off. Each change is an atomic add on the map's shared mapping (the map is BPF_F_MMAPABLE): no lock, and no
/// read-modify-write race between tracers. A tracer killed with SIGKILL cannot take its count back; the programs then
/// keep writing events nobody reads (counted as lost once the ring is full) until every tracer exits normally or the
/// agent is detached.
/// </summary>
internal sealed class TraceSwitch : IDisposable
{
    private readonly BpfMappedMemory _memory;
    private int _on;

    private TraceSwitch(BpfMappedMemory memory)
    {
        _memory = memory;
    }

    // A host that ends the process while the tracer still runs (System.CommandLine returns 130/143 from Main on
    // SIGINT/SIGTERM without waiting for a synchronous action) still runs ProcessExit.
    private void OnProcessExit(object? sender, EventArgs e) => TurnOff();

    /// <summary>Maps <paramref name="control"/> and adds this tracer to its count.</summary>
    public static TraceSwitch TurnOn(BpfMapHandle control)
    {
        var memory = control.MapShared();
        var tracerSwitch = new TraceSwitch(memory);
        Interlocked.Increment(ref memory.At<LbTraceControl>(0).Tracers);
        tracerSwitch._on = 1;
        AppDomain.CurrentDomain.ProcessExit += tracerSwitch.OnProcessExit;
        return tracerSwitch;
    }

    /// <summary>Tracers counted now, this one included while it is on.</summary>
    public uint Tracers => Volatile.Read(ref _memory.At<LbTraceControl>(0).Tracers);

    /// <summary>Events the programs dropped because the ring was full, since the maps were created.</summary>
    public ulong Lost => Volatile.Read(ref _memory.At<LbTraceControl>(0).Lost);

    /// <summary>Takes this tracer out of the count (once); never below zero, should someone have reset it.</summary>
    public void TurnOff()
    {
        if (Interlocked.Exchange(ref _on, 0) == 0)
            return;
        ref uint tracers = ref _memory.At<LbTraceControl>(0).Tracers;
        while (true)
        {
            uint seen = Volatile.Read(ref tracers);
            if (seen == 0 || Interlocked.CompareExchange(ref tracers, seen - 1, seen) == seen)
                return;
        }
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        TurnOff();
        _memory.Dispose();
    }
}
