using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Kernel capabilities the data path adapts to (Cilium's HAVE_* idea): probed, never assumed from a version number.
/// </summary>
public sealed record DatapathFeatures(bool CgroupSockAddrPrograms, bool SetRetval)
{
    private const int ProgTypeCgroupSockAddr = 18; // BPF_PROG_TYPE_CGROUP_SOCK_ADDR
    private const int HelperSetRetval = 187;       // BPF_FUNC_set_retval, kernel 5.18

    public static DatapathFeatures Probe(ILogger logger)
    {
        bool sockAddr = BpfFeatures.ProgramTypeAvailable(ProgTypeCgroupSockAddr);
        bool setRetval = sockAddr && BpfFeatures.HelperAvailable(ProgTypeCgroupSockAddr, HelperSetRetval);
        if (!setRetval)
            logger.LogWarning("Kernel lacks bpf_set_retval (needs 5.18): connects to a service without backends fail with EPERM instead of ECONNREFUSED");
        return new DatapathFeatures(sockAddr, setRetval);
    }
}
