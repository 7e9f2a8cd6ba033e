namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>enum lb_refusal_reason</c> (bpf/lib/lb_abi.h), the reason stored in lb4_refused.</summary>
internal enum LbRefusalReason : uint
{
    Subset = 1,
    ServiceMapFull = 2,
    BackendMapFull = 3,
    NoServiceId = 4,
    Unsupported = 5,
    WriteFailed = 6,
}
