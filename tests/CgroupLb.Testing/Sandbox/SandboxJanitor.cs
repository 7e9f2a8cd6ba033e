namespace CgroupLb.Testing.Sandbox;

/// <summary>
/// Removes what crashed earlier runs left behind: cgroups, bpffs directories and network namespaces named
/// cglb-test-&lt;pid&gt;-&lt;hex&gt; whose owning test process is gone. Anything else, including sandboxes of a
/// test run that is still alive, is left alone. Runs once per test run, before the first kernel test, as the
/// collection fixture of each test project's kernel collection. A leftover that cannot be removed is recorded, not thrown: it
/// must not fail every test, and each sandbox has a fresh name so it cannot collide with it.
/// </summary>
public sealed class SandboxJanitor
{
    public sealed record Sweep(IReadOnlyList<string> Removed, IReadOnlyList<string> Failed);

    public SandboxJanitor()
    {
        if (KernelTestGate.CanRun(out _))
            LastSweep = SweepAsync().GetAwaiter().GetResult();
    }

    /// <summary>What the start-of-run sweep did, for diagnostics.</summary>
    public Sweep LastSweep { get; } = new([], []);

    public static async Task<Sweep> SweepAsync()
    {
        var removed = new List<string>();
        var failed = new List<string>();

        foreach (string cgroup in StaleDirectories(SandboxNames.CgroupRoot))
        {
            await Remove(cgroup, async () =>
            {
                await CgroupAttachments.DetachAllAsync(cgroup).ConfigureAwait(false);
                await KernelSandbox.RemoveCgroupAsync(cgroup, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        foreach (string pins in StaleDirectories(SandboxNames.BpffsRoot))
            await Remove(pins, () => KernelSandbox.RemoveBpffsDirectory(pins)).ConfigureAwait(false);

        CommandResult namespaces = await HostCommand.RunCheckedAsync("ip", "netns", "list").ConfigureAwait(false);
        foreach (string line in namespaces.StdoutLines())
        {
            // "name" or "name (id: N)"
            string name = line.Split(' ', 2)[0];
            if (IsStale(name))
                await Remove("netns " + name, () => KernelSandbox.DeleteNamespaceAsync(name)).ConfigureAwait(false);
        }
        return new Sweep(removed, failed);

        async Task Remove(string what, Func<Task> removal)
        {
            try
            {
                await removal().ConfigureAwait(false);
                removed.Add(what);
            }
            catch (Exception e)
            {
                failed.Add($"{what}: {e.Message}");
            }
        }
    }

    private static IEnumerable<string> StaleDirectories(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateDirectories(root, SandboxNames.Prefix + "*").Where(d => IsStale(Path.GetFileName(d))).ToList()
            : [];

    private static bool IsStale(string name) =>
        SandboxNames.OwnerOf(name) is int owner && owner != Environment.ProcessId && !Directory.Exists($"/proc/{owner}");
}
