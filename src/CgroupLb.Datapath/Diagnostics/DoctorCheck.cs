namespace CgroupLb.Datapath.Diagnostics;

/// <summary>How one doctor check came out. Missing on a required check makes `cgroup-lb doctor` exit non-zero.</summary>
public enum DoctorStatus
{
    Ok,
    /// <summary>Works, with a degraded fallback or a setting worth a look.</summary>
    Warning,
    Missing,
    /// <summary>A fact, not a verdict (kernel release, libbpf version, the pinned state).</summary>
    Info,
}

/// <summary>
/// One line of `cgroup-lb doctor`: what was checked, what was found, and, when it is not there, what that costs
/// (<see cref="Impact"/>) and what to do about it (<see cref="Fix"/>).
/// </summary>
public sealed record DoctorCheck(string Category, string Name, DoctorStatus Status, bool Required, string Detail)
{
    public string? Impact { get; init; }
    public string? Fix { get; init; }

    /// <summary>A required item that is missing: `run` would refuse to start.</summary>
    public bool Fails => Required && Status == DoctorStatus.Missing;
}

/// <summary>Everything doctor found; <see cref="Healthy"/> is false when a required check is missing.</summary>
public sealed record DoctorReport(string CgroupPath, string BpffsPath, IReadOnlyList<DoctorCheck> Checks)
{
    public bool Healthy => !Checks.Any(c => c.Fails);
}
