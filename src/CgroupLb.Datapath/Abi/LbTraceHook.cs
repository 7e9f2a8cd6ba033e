namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>enum lb_trace_hook</c>: which program reported a trace event.</summary>
public enum LbTraceHook : byte
{
    Connect4 = 1,
    Sendmsg4 = 2,
    Connect6 = 3,
    Sendmsg6 = 4,
}
