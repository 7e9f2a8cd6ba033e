namespace CgroupLb.Interop;

/// <summary>
/// Kernel capability probes (libbpf_probe_*): each loads a tiny program, so cache the answers. Needs the same
/// privileges as loading programs; a probe that cannot run throws <see cref="BpfException"/>.
/// </summary>
public static class BpfFeatures
{
    /// <summary>Whether programs of <paramref name="programType"/> may call helper <paramref name="helperId"/> (enum bpf_func_id).</summary>
    public static unsafe bool HelperAvailable(BpfProgramType programType, int helperId)
    {
        var result = Interop.Libbpf.LibbpfProbeBpfHelper((int)programType, helperId, null);
        return BpfException.ThrowIfNegative(result, "libbpf_probe_bpf_helper", "program type", $"{programType}", $"helper {helperId}") == 1;
    }

    /// <summary>Whether the kernel can load programs of <paramref name="programType"/>.</summary>
    public static unsafe bool ProgramTypeAvailable(BpfProgramType programType)
    {
        var result = Interop.Libbpf.LibbpfProbeBpfProgType((int)programType, null);
        return BpfException.ThrowIfNegative(result, "libbpf_probe_bpf_prog_type", "program type", $"{programType}") == 1;
    }

    /// <summary>Whether the kernel can create maps of <paramref name="mapType"/> (<c>libbpf_probe_bpf_map_type</c>).</summary>
    public static unsafe bool MapTypeAvailable(BpfMapType mapType)
    {
        var result = Interop.Libbpf.LibbpfProbeBpfMapType((int)mapType, null);
        return BpfException.ThrowIfNegative(result, "libbpf_probe_bpf_map_type", "map type", $"{mapType}") == 1;
    }
}
