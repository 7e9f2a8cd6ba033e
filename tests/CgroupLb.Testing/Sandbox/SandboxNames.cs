using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Names of everything a sandbox creates: <c>cglb-test-&lt;owner pid&gt;-&lt;6 hex&gt;</c>, plus a suffix for the
/// network namespaces. The owner pid lets <see cref="SandboxJanitor"/> tell leftovers of a crashed run (owner gone)
/// from a sandbox another test run is using right now.
/// </summary>
public static partial class SandboxNames
{
    public const string Prefix = "cglb-test-";
    /// <summary>The cgroup v2 hierarchy: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one.</summary>
    public static readonly string CgroupRoot =
        File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    public const string BpffsRoot = "/sys/fs/bpf";

    public static string NewId() =>
        $"{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    public static string Stem(string id) => Prefix + id;

    public static string CgroupPath(string id) => Path.Combine(CgroupRoot, Stem(id));

    public static string BpffsPath(string id) => Path.Combine(BpffsRoot, Stem(id));

    public static string ClientNamespace(string id) => Stem(id) + "-c";

    /// <summary>A second client ("another pod"), for tests that tell clients apart by network namespace.</summary>
    public static string SecondClientNamespace(string id) => Stem(id) + "-c2";

    public static string BackendNamespace(string id, int index) => Stem(id) + "-b" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The pid of the test process that created <paramref name="name"/>, or null if it is not a sandbox name.</summary>
    public static int? OwnerOf(string name)
    {
        Match match = SandboxName().Match(name);
        return match.Success ? int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture) : null;
    }

    [GeneratedRegex(@"^cglb-test-(?<pid>[0-9]{1,10})-[0-9a-f]{6}(-c|-c2|-b[0-9]+)?$")]
    private static partial Regex SandboxName();
}
