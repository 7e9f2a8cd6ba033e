using System.Reflection;

namespace CgroupLb.Agent.Metrics;

/// <summary>
/// This build's version and source commit, from the assembly's informational version ("1.2.3+commit", the SDK
/// appends the commit when it builds from a git checkout). One source for --version, doctor and cgroup_lb_build_info.
/// </summary>
internal static class BuildInfo
{
    private static readonly string Informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static string Version => Informational.Split('+')[0];

    /// <summary>The commit the build came from, or "unknown" when it was not built from a checkout.</summary>
    public static string Commit => Informational.Split('+') is [_, var commit, ..] && commit.Length > 0 ? commit : "unknown";

    public static string Runtime => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;
}
