using Xunit;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Whether kernel tests can run here: root, cgroup v2 and bpffs where the sandbox expects them, ip and bpftool.
/// Locally a test that cannot run is skipped with the reason; with CI=true it fails instead, so a misconfigured CI
/// runner cannot turn the kernel suite green by skipping all of it.
/// </summary>
public static class KernelTestGate
{
    public static void Require()
    {
        if (CanRun(out string? reason))
            return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"kernel test cannot run and CI=true forbids skipping: {reason}");
        Skip.If(true, $"kernel test skipped: {reason}");
    }

    public static bool CanRun(out string? reason)
    {
        reason = Missing();
        return reason is null;
    }

    private static string? Missing()
    {
        if (!OperatingSystem.IsLinux())
            return "needs Linux";
        if (!IsEffectiveRoot())
            return "needs root (creates cgroups, network namespaces and BPF programs)";
        if (!File.Exists(Path.Combine(SandboxNames.CgroupRoot, "cgroup.procs")))
            return $"needs cgroup v2 mounted at {SandboxNames.CgroupRoot}";
        if (!Directory.Exists(SandboxNames.BpffsRoot) || !IsMounted(SandboxNames.BpffsRoot, "bpf"))
            return $"needs bpffs mounted at {SandboxNames.BpffsRoot}";
        foreach (string tool in new[] { "ip", "bpftool", "stat" })
        {
            if (!OnPath(tool))
                return $"needs {tool} on PATH";
        }
        return null;
    }

    private static bool IsEffectiveRoot() =>
        File.ReadLines("/proc/self/status")
            .FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
            .Split('\t', StringSplitOptions.RemoveEmptyEntries) is [_, _, "0", ..];

    private static bool IsMounted(string path, string fsType) =>
        File.ReadLines("/proc/self/mounts")
            .Select(l => l.Split(' '))
            .Any(f => f.Length > 2 && f[1] == path && f[2] == fsType);

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}
