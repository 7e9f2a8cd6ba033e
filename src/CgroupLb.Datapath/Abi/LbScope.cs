namespace CgroupLb.Datapath.Abi;

/// <summary>Mirror of <c>enum lb_scope</c>.</summary>
internal enum LbScope : byte
{
    External = 0,
    Internal = 1,
}
