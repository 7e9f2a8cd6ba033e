namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>enum lb_trace_verdict</c>: what the hook decided for the frontend of a trace event.</summary>
public enum LbTraceVerdict : byte
{
    /// <summary>Rewritten to the event's backend.</summary>
    Translated = 1,
    /// <summary>The frontend has no backends; the syscall failed.</summary>
    RefusedNoBackend = 2,
    /// <summary>A backend slot vanished twice while the agent rewrote the frontend; the syscall failed.</summary>
    RefusedNoSlot = 3,
}
