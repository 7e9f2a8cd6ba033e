using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Tracing;

/// <summary>
/// A running tracer on the pinned maps of one bpffs directory: switches tracing on while open (<see cref="TraceSwitch"/>),
/// reads lb_trace_events and hands each event that passes the filter to the callback, named from lb_svc_names. It
/// writes nothing to the maps but the switch, takes no lock, and may run beside the agent and other tracers.
/// Poll from one thread; Dispose switches this tracer off.
/// </summary>
public sealed class TraceSession : IDisposable
{
    private readonly BpfMapHandle _events;
    private readonly BpfMapHandle _control;
    private readonly BpfMapHandle _names;
    private readonly TraceSwitch _switch;
    private readonly BpfRingBuffer _ring;
    private readonly TraceFilter _filter;
    private readonly Action<TraceEvent> _onEvent;
    private readonly DateTimeOffset _bootTime;
    private readonly ulong _lostAtStart;

    private TraceSession(BpfMapHandle events, BpfMapHandle control, BpfMapHandle names, TraceFilter filter,
        Action<TraceEvent> onEvent, TimeProvider time)
    {
        _events = events;
        _control = control;
        _names = names;
        _filter = filter;
        _onEvent = onEvent;
        _bootTime = TraceClock.BootTime(time);
        // The ring first, the switch second: no event is written before someone can read it.
        _ring = BpfRingBuffer.Open(events, OnRecord);
        try
        {
            _switch = TraceSwitch.TurnOn(control);
        }
        catch
        {
            _ring.Dispose();
            throw;
        }
        _lostAtStart = _switch.Lost;
    }

    /// <summary>Events the programs dropped (ring full) since this tracer started, counting every tracer's misses.</summary>
    public ulong Lost => _switch.Lost - _lostAtStart;

    /// <summary>Tracers running now, this one included.</summary>
    public uint Tracers => _switch.Tracers;

    /// <summary>
    /// Opens the pinned trace maps under <paramref name="bpffsPath"/> and switches tracing on. Throws a
    /// <see cref="DatapathException"/> (phase "trace") when nothing is pinned there, when the agent that pinned it
    /// predates tracing, or when the kernel has no ring buffer (before 5.8) and the programs run without events.
    /// </summary>
    public static TraceSession Start(string bpffsPath, TraceFilter filter, Action<TraceEvent> onEvent, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(onEvent);
        var options = new DatapathOptions("", bpffsPath);
        Preflight.CheckPinnedState(options);
        var opened = new List<BpfMapHandle>();
        try
        {
            BpfMapHandle Open(string name)
            {
                string path = options.MapPinPath(name);
                if (!File.Exists(path))
                    throw new DatapathException("trace",
                        $"map {name} is not pinned at {path}: the agent that attached there predates tracing; restart it with this version");
                var handle = BpfMapHandle.OpenPinned(path);
                opened.Add(handle);
                return handle;
            }

            var events = Open(MapNames.TraceEvents);
            if (events.Info.Type != BpfMapType.Ringbuf)
                throw new DatapathException("trace",
                    $"this kernel has no BPF ring buffer (Linux 5.8+): the programs under {bpffsPath} run without trace events, so there is nothing to trace");
            var control = Open(MapNames.TraceControl);
            PinnedMaps.CheckLayout(MapNames.TraceControl, control.Info.KeySize, control.Info.ValueSize, sizeof(uint),
                System.Runtime.InteropServices.Marshal.SizeOf<LbTraceControl>());
            var names = Open(MapNames.ServiceNames);
            var session = new TraceSession(events, control, names, filter, onEvent, time ?? TimeProvider.System);
            opened.Clear();
            return session;
        }
        finally
        {
            foreach (var handle in opened)
                handle.Dispose();
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for events and delivers them; returns how many records were read.</summary>
    public int Poll(TimeSpan timeout) => _ring.Poll(timeout);

    /// <summary>Delivers events until <paramref name="cancellation"/> fires, waking every <paramref name="wake"/> to check it.</summary>
    public void Run(CancellationToken cancellation, TimeSpan? wake = null)
    {
        var interval = wake ?? TimeSpan.FromMilliseconds(200);
        while (!cancellation.IsCancellationRequested)
            _ring.Poll(interval);
    }

    private void OnRecord(ReadOnlySpan<byte> record)
    {
        var e = TraceEventDecoder.Decode(record, ServiceName, _bootTime);
        if (_filter.Matches(e))
            _onEvent(e);
    }

    // Looked up per event rather than cached: ids are reused after a Service goes, and a tracer may run for hours.
    private string? ServiceName(uint serviceId) =>
        _names.TryLookup(in serviceId, out LbServiceName name) ? name.ToString() : null;

    public void Dispose()
    {
        _switch.Dispose();
        _ring.Dispose();
        _events.Dispose();
        _control.Dispose();
        _names.Dispose();
    }
}
